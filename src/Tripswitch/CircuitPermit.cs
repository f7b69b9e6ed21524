using Tripswitch.Controller;

namespace Tripswitch;

/// <summary>
/// Permission to make one call through a circuit: the first half of the two-step primitive every
/// <c>Execute</c> overload is built on. Get one from <see cref="CircuitBreaker.AcquirePermit"/> or
/// <see cref="CircuitBreaker.TryAcquirePermit(out CircuitPermit, out CircuitRejection)"/>, make the call, then report its outcome exactly once with
/// <see cref="RecordOutcome"/> (the classifier), or directly with <see cref="RecordSuccess"/>, <see cref="RecordFailure"/> or <see cref="RecordIgnored"/>.
/// </summary>
/// <remarks>
/// A permit remembers the generation of the state it was granted in: an outcome reported after the circuit moved on
/// is counted in the metrics but never changes the newer state. A half-open probe's slot stays taken until its outcome
/// is reported, so always report, even on paths that end in an exception.
/// </remarks>
public readonly struct CircuitPermit
{
    private readonly CallCounters.Slot? _slot;

    internal CircuitPermit(CallCounters.Slot slot, int generation, PermitKind kind, long probeId, long startTimestamp)
    {
        _slot = slot;
        Generation = generation;
        Kind = kind;
        ProbeId = probeId;
        StartTimestamp = startTimestamp;
    }

    internal int Generation { get; }

    /// <summary>What the permit was granted as (fits beside <see cref="Generation"/>: the struct stays 32 bytes).</summary>
    internal PermitKind Kind { get; }

    /// <summary>A half-open probe's unique id (&gt; 0); 0 for every other kind.</summary>
    internal long ProbeId { get; }

    /// <summary>When the call started (TimeProvider timestamp), or 0 when it is not timed.</summary>
    internal long StartTimestamp { get; }

    /// <summary>Whether this permit is one of the half-open circuit's probe calls.</summary>
    public bool IsProbe => Kind == PermitKind.Probe;

    /// <summary>Reports that the call succeeded.</summary>
    /// <exception cref="InvalidOperationException">The permit is <see langword="default"/> (it was never granted).</exception>
    public void RecordSuccess() => Machine.OnSuccess(this);

    /// <summary>Reports that the call failed in a way that counts against the circuit.</summary>
    /// <param name="exception">The failure, when there is one; it is passed to state-change handlers as the cause.</param>
    /// <param name="retryAfter">
    /// How long the dependency asked callers to wait (a 429's <c>Retry-After</c>), when it said. When omitted, it is taken
    /// from an exception implementing <see cref="IRetryAfterHint"/> or from <see cref="CircuitBreakerOptions.RetryAfterExtractor"/>.
    /// </param>
    /// <exception cref="InvalidOperationException">The permit is <see langword="default"/> (it was never granted).</exception>
    public void RecordFailure(Exception? exception = null, TimeSpan? retryAfter = null) => Machine.OnFailure(this, exception, retryAfter);

    /// <summary>Reports an outcome that counts as neither success nor failure (for example the caller's own cancellation); frees a probe slot.</summary>
    /// <exception cref="InvalidOperationException">The permit is <see langword="default"/> (it was never granted).</exception>
    public void RecordIgnored() => Machine.OnIgnored(this);

    /// <summary>
    /// The one outcome classifier: reports the call and says how it counted. No exception: a success. An
    /// <see cref="OperationCanceledException"/> while <paramref name="cancellationToken"/> is cancelled: the caller's
    /// cancellation. Any other exception: a failure when <see cref="CircuitBreakerOptions.ShouldHandle"/> accepts it
    /// (or is not set), otherwise ignored. Every <c>Execute</c> overload, the HTTP handler and the chat client classify
    /// with it, so a call counts the same way whichever way it was made.
    /// </summary>
    /// <remarks>
    /// A <see cref="CircuitBreakerOptions.ShouldHandle"/> that throws is a bug the user must see: the call is recorded
    /// as a failure (so a probe slot is never lost) and the predicate's exception is thrown from this method, in every
    /// package alike. Call it from a <see langword="catch"/> block, never from an exception filter (exceptions thrown
    /// in filters are swallowed).
    /// </remarks>
    /// <param name="exception">What the call threw, or <see langword="null"/> when it returned.</param>
    /// <param name="cancellationToken">The caller's own token (not a timeout's of your own: a timeout is a failure).</param>
    /// <returns>How the call was classified and recorded.</returns>
    /// <exception cref="InvalidOperationException">The permit is <see langword="default"/> (it was never granted).</exception>
    public CallOutcome RecordOutcome(Exception? exception, CancellationToken cancellationToken = default)
    {
        CircuitStateMachine machine = Machine;
        if (exception is null)
        {
            machine.OnSuccess(this);
            return CallOutcome.Success;
        }

        if (exception is OperationCanceledException && cancellationToken.IsCancellationRequested)
        {
            // The caller gave up: not a failure, unless the call had already been slower than the slow-call threshold.
            machine.OnCallerCancelled(this);
            return CallOutcome.CallerCancelled;
        }

        bool handled;
        try
        {
            handled = machine.Options.ShouldHandle is not { } shouldHandle || shouldHandle(exception);
        }
        catch
        {
            // The predicate itself threw: count the call as failed so the permit is never lost, then let the
            // predicate's exception surface.
            machine.OnFailure(this, exception, null);
            throw;
        }

        if (handled)
        {
            machine.OnFailure(this, exception, null);
            return CallOutcome.Failure;
        }

        machine.OnIgnored(this);
        return CallOutcome.Ignored;
    }

    /// <summary>Reports a call that threw, classified by <see cref="RecordOutcome"/>.</summary>
    /// <param name="exception">What the call threw.</param>
    /// <param name="cancellationToken">The caller's own token.</param>
    /// <returns><see langword="true"/> when it was classified <see cref="CallOutcome.Failure"/>; <see langword="false"/> when ignored or the caller's cancellation.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="exception"/> is <see langword="null"/>.</exception>
    /// <exception cref="InvalidOperationException">The permit is <see langword="default"/> (it was never granted).</exception>
    public bool RecordException(Exception exception, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return RecordOutcome(exception, cancellationToken) == CallOutcome.Failure;
    }

    /// <summary>
    /// The counter slot the call's start was counted in; its outcome is counted there too (every slot write is
    /// interlocked, so from any thread), which spares a second slot lookup. The slot also leads to the circuit.
    /// </summary>
    internal CallCounters.Slot Slot => _slot ?? throw NeverGranted();

    private CircuitStateMachine Machine => _slot?.Machine ?? throw NeverGranted();

    private static InvalidOperationException NeverGranted()
        => new("This CircuitPermit was never granted; get one from CircuitBreaker.AcquirePermit or TryAcquirePermit.");
}
