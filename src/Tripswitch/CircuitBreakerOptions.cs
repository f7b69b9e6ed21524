
namespace Tripswitch;

/// <summary>
/// Options of one <see cref="CircuitBreaker"/>. A breaker validates them when it is built and keeps its own copy,
/// so changing this object afterwards has no effect on a breaker that already exists.
/// </summary>
public sealed partial class CircuitBreakerOptions
{
    /// <summary>The circuit's name, used in exceptions, summaries and telemetry.</summary>
    /// <value>Defaults to <c>"default"</c>. Must not be empty or white space. A registry names each breaker after its key.</value>
    public string Name { get; set; } = CircuitBreakerDefaults.Name;

    /// <summary>How the circuit acts on its rules: normally, in shadow mode (nothing rejected), or not at all.</summary>
    /// <value>Defaults to <see cref="CircuitBreakerMode.Enabled"/>.</value>
    public CircuitBreakerMode Mode { get; set; } = CircuitBreakerMode.Enabled;

    /// <summary>Which rule opens a closed circuit.</summary>
    /// <value>Defaults to <see cref="FailureRule.ConsecutiveFailures"/>.</value>
    public FailureRule Rule { get; set; } = FailureRule.ConsecutiveFailures;

    /// <summary>How many handled failures in a row open a closed circuit, with <see cref="FailureRule.ConsecutiveFailures"/>.</summary>
    /// <value>Defaults to 5. Valid range: 1 to 1,000,000.</value>
    public int FailureThreshold { get; set; } = CircuitBreakerDefaults.FailureThreshold;

    /// <summary>The failure ratio in the window at which a window rule opens the circuit.</summary>
    /// <value>Defaults to 0.1 (Polly's default). Valid range: greater than 0, up to 1.</value>
    public double FailureRatio { get; set; } = CircuitBreakerDefaults.FailureRatio;

    /// <summary>How many calls a window rule needs in its window before it may open the circuit.</summary>
    /// <value>Defaults to 100 (Polly's default). Valid range: 1 to 1,000,000; with <see cref="FailureRule.CountWindow"/>, at most <see cref="WindowSize"/>.</value>
    public int MinimumThroughput { get; set; } = CircuitBreakerDefaults.MinimumThroughput;

    /// <summary>How many of the most recent calls <see cref="FailureRule.CountWindow"/> looks at.</summary>
    /// <value>Defaults to 100. Valid range: 1 to 100,000.</value>
    public int WindowSize { get; set; } = CircuitBreakerDefaults.WindowSize;

    /// <summary>How far back <see cref="FailureRule.TimeWindow"/> looks, in 10 buckets that roll over as time passes.</summary>
    /// <value>Defaults to 30 seconds (Polly's default). Valid range: 100 milliseconds to 1 day.</value>
    public TimeSpan SamplingDuration { get; set; } = CircuitBreakerDefaults.SamplingDuration;

    /// <summary>
    /// A call that takes longer than this is a slow call: by default it counts as a failure (even when it succeeds), so a
    /// hung upstream trips the circuit even when it eventually answers. With <see cref="SlowCallRatio"/> set, slow calls
    /// count toward a separate slow-call ratio instead.
    /// </summary>
    /// <value>Defaults to <see langword="null"/> (calls are not timed). Valid range: 1 millisecond to 1 day.</value>
    public TimeSpan? SlowCallThreshold { get; set; }

    /// <summary>
    /// When set, slow calls keep their own outcome and the circuit opens when the ratio of slow calls in the window
    /// reaches this value (needs a window rule and <see cref="SlowCallThreshold"/>).
    /// </summary>
    /// <value>Defaults to <see langword="null"/> (a slow call is a failure). Valid range: greater than 0, up to 1.</value>
    public double? SlowCallRatio { get; set; }

    /// <summary>How long the circuit stays open the first time it opens, before the next caller may probe it (half-open).</summary>
    /// <value>Defaults to 60 seconds. Valid range: 1 millisecond to 1 day.</value>
    public TimeSpan RecoveryTimeout { get; set; } = CircuitBreakerDefaults.RecoveryTimeout;

    /// <summary>Each time a half-open probe fails, the next open period is the previous one times this factor, up to <see cref="MaxRecoveryTimeout"/>. Closing resets it.</summary>
    /// <value>Defaults to 1 (no backoff). Valid range: 1 to 100.</value>
    public double RecoveryBackoffMultiplier { get; set; } = CircuitBreakerDefaults.RecoveryBackoffMultiplier;

    /// <summary>Randomizes each open period by up to this fraction either way (0.2 → between 80 % and 120 %), so a fleet doesn't probe in step.</summary>
    /// <value>Defaults to 0 (no jitter). Valid range: 0 to less than 1.</value>
    public double RecoveryJitter { get; set; }

    /// <summary>The longest open period: caps the backoff, a custom generator and every Retry-After hint, so a hostile "retry in 10 years" cannot wedge the circuit.</summary>
    /// <value>Defaults to <see langword="null"/>: 10 minutes, or <see cref="RecoveryTimeout"/> when that is longer. Valid range: <see cref="RecoveryTimeout"/> to 1 day.</value>
    public TimeSpan? MaxRecoveryTimeout { get; set; }

    /// <summary>
    /// Computes each open period yourself (Polly's <c>BreakDurationGenerator</c>). It runs outside any lock and receives the
    /// failure that caused the opening; its result is kept between 1 millisecond and <see cref="MaxRecoveryTimeout"/>. If it
    /// throws, the computed period is used.
    /// </summary>
    /// <value>Defaults to <see langword="null"/>: <see cref="RecoveryTimeout"/> with backoff and jitter.</value>
    public Func<BreakDurationArguments, TimeSpan>? BreakDurationGenerator { get; set; }

    /// <summary>
    /// Extracts a "retry after" hint from a failure. Exceptions that implement <see cref="IRetryAfterHint"/> need none.
    /// The open period is the later of the computed one and the hint, capped by <see cref="MaxRecoveryTimeout"/>.
    /// If it throws, the failure counts without a hint.
    /// </summary>
    /// <value>Defaults to <see langword="null"/>.</value>
    public Func<Exception, TimeSpan?>? RetryAfterExtractor { get; set; }

    /// <summary>How many successful probes close a half-open circuit.</summary>
    /// <value>Defaults to 2. Valid range: 1 to 1,000,000.</value>
    public int SuccessThreshold { get; set; } = CircuitBreakerDefaults.SuccessThreshold;

    /// <summary>The most probe calls a half-open circuit lets run at the same time; every other caller is rejected.</summary>
    /// <value>Defaults to 1 (one test request). Valid range: 1 to 1,000.</value>
    public int HalfOpenMaxCalls { get; set; } = CircuitBreakerDefaults.HalfOpenMaxCalls;

    /// <summary>
    /// A probe that has not reported its outcome within this time counts as failed and its slot is freed, so a hung probe
    /// can never leave the circuit stuck half-open. Its late outcome, if it ever comes, changes nothing.
    /// </summary>
    /// <value>Defaults to 2 minutes (longer than HttpClient's default timeout). Valid range: 1 millisecond to 1 day.</value>
    public TimeSpan HalfOpenProbeTimeout { get; set; } = CircuitBreakerDefaults.HalfOpenProbeTimeout;

    /// <summary>The source of time for every timing rule. Tests pass a <c>FakeTimeProvider</c>.</summary>
    /// <value>Defaults to <see cref="System.TimeProvider.System"/>. Must not be <see langword="null"/>.</value>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>
    /// Where the circuit's <c>Tripswitch</c> <see cref="System.Diagnostics.Metrics.Meter"/> comes from. With dependency
    /// injection, <c>AddTripswitch</c> sets it to the container's <see cref="System.Diagnostics.Metrics.IMeterFactory"/>,
    /// so the meter belongs to the container (and is disposed with it). Read once, when the circuit is created.
    /// </summary>
    /// <value>Defaults to <see langword="null"/>: the circuit reports to the process-wide meter named <c>Tripswitch</c>.</value>
    public System.Diagnostics.Metrics.IMeterFactory? MeterFactory { get; set; }

    /// <summary>
    /// Decides which exceptions count as failures. An exception for which it returns <see langword="false"/> passes
    /// through to the caller and counts as neither success nor failure.
    /// </summary>
    /// <value>
    /// Defaults to <see langword="null"/>: every exception counts. Whatever the predicate, an
    /// <see cref="OperationCanceledException"/> thrown while the caller's own <see cref="CancellationToken"/> is
    /// cancelled never counts as a failure.
    /// </value>
    public Func<Exception, bool>? ShouldHandle { get; set; }

    /// <summary>
    /// Whether the fallback given to an <c>Execute</c> overload also runs when the call fails with a handled failure,
    /// not only when the call is rejected.
    /// </summary>
    /// <value>Defaults to <see langword="false"/>: the failure reaches the caller.</value>
    public bool FallbackOnFailure { get; set; }

    /// <summary>Returns a copy of these options (the delegates and the time provider are shared, not copied).</summary>
    /// <returns>A new options object with the same values.</returns>
    public CircuitBreakerOptions Clone() => (CircuitBreakerOptions)MemberwiseClone();

    /// <summary>
    /// Throws when a value is out of range: the exception of the first of <see cref="GetValidationErrors"/>, an
    /// <see cref="ArgumentOutOfRangeException"/> (or <see cref="ArgumentException"/>) whose message names the option, the
    /// value and the valid range.
    /// </summary>
    /// <exception cref="ArgumentException">An option is invalid.</exception>
    public void Validate() => OptionChecks.ThrowIfAny(GetValidationErrors());

    /// <summary>The longest open period in force: <see cref="MaxRecoveryTimeout"/>, or its documented default.</summary>
    internal TimeSpan EffectiveMaxRecoveryTimeout
        => MaxRecoveryTimeout ?? (RecoveryTimeout > CircuitBreakerDefaults.DefaultMaxRecoveryTimeout ? RecoveryTimeout : CircuitBreakerDefaults.DefaultMaxRecoveryTimeout);

    /// <summary>Validates, naming <paramref name="circuit"/> in the message (registries and configuration).</summary>
    internal void Validate(string circuit)
    {
        IReadOnlyList<OptionError> errors = GetValidationErrors();
        if (errors.Count > 0)
        {
            throw (errors[0] with { Circuit = circuit }).ToException();
        }
    }
}
