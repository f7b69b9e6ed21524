using System.Globalization;

namespace Tripswitch;

/// <summary>
/// Options of one <see cref="CircuitBreaker"/>. A breaker validates them when it is built and keeps its own copy,
/// so changing this object afterwards has no effect on a breaker that already exists.
/// </summary>
public sealed class CircuitBreakerOptions
{
    /// <summary>The circuit's name, used in exceptions, summaries and telemetry.</summary>
    /// <value>Defaults to <c>"default"</c>. Must not be empty or white space. A registry names each breaker after its key.</value>
    public string Name { get; set; } = CircuitBreakerDefaults.Name;

    /// <summary>How many handled failures in a row open a closed circuit.</summary>
    /// <value>Defaults to 5. Valid range: 1 to 1,000,000.</value>
    public int FailureThreshold { get; set; } = CircuitBreakerDefaults.FailureThreshold;

    /// <summary>How long the circuit stays open before the next caller may probe it (half-open).</summary>
    /// <value>Defaults to 60 seconds. Valid range: 1 millisecond to 1 day.</value>
    public TimeSpan RecoveryTimeout { get; set; } = CircuitBreakerDefaults.RecoveryTimeout;

    /// <summary>How many successful probes close a half-open circuit.</summary>
    /// <value>Defaults to 2. Valid range: 1 to 1,000,000.</value>
    public int SuccessThreshold { get; set; } = CircuitBreakerDefaults.SuccessThreshold;

    /// <summary>The most probe calls a half-open circuit lets run at the same time; every other caller is rejected.</summary>
    /// <value>Defaults to 1 (one test request). Valid range: 1 to 1,000.</value>
    public int HalfOpenMaxCalls { get; set; } = CircuitBreakerDefaults.HalfOpenMaxCalls;

    /// <summary>The source of time for every timing rule. Tests pass a <c>FakeTimeProvider</c>.</summary>
    /// <value>Defaults to <see cref="System.TimeProvider.System"/>. Must not be <see langword="null"/>.</value>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

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
    /// Throws when a value is out of range: an <see cref="ArgumentOutOfRangeException"/> (or <see cref="ArgumentException"/>)
    /// whose message names the option, the value and the valid range.
    /// </summary>
    /// <exception cref="ArgumentException">An option is invalid.</exception>
    public void Validate() => Validate(circuit: null);

    /// <summary>Validates, naming <paramref name="circuit"/> in the message when it is given (registries and configuration).</summary>
#pragma warning disable CA2208 // The "parameter" named is the option, on purpose: it is what the user must fix.
    internal void Validate(string? circuit)
    {
        string prefix = circuit is null ? string.Empty : $"Circuit '{circuit}': ";
        if (string.IsNullOrWhiteSpace(Name))
        {
            throw new ArgumentException(
                $"{prefix}{nameof(CircuitBreakerOptions)}.{nameof(Name)} must be a non-empty name; it was {(Name is null ? "null" : $"'{Name}'")}.",
                nameof(Name));
        }

        CheckRange(prefix, nameof(FailureThreshold), FailureThreshold, CircuitBreakerDefaults.MinFailureThreshold, CircuitBreakerDefaults.MaxFailureThreshold);
        CheckRange(prefix, nameof(SuccessThreshold), SuccessThreshold, CircuitBreakerDefaults.MinSuccessThreshold, CircuitBreakerDefaults.MaxSuccessThreshold);
        CheckRange(prefix, nameof(HalfOpenMaxCalls), HalfOpenMaxCalls, CircuitBreakerDefaults.MinHalfOpenMaxCalls, CircuitBreakerDefaults.MaxHalfOpenMaxCalls);
        CheckRange(prefix, nameof(RecoveryTimeout), RecoveryTimeout, CircuitBreakerDefaults.MinRecoveryTimeout, CircuitBreakerDefaults.MaxRecoveryTimeout);

        if (TimeProvider is null)
        {
            throw new ArgumentNullException(nameof(TimeProvider), $"{prefix}{nameof(CircuitBreakerOptions)}.{nameof(TimeProvider)} must not be null; use TimeProvider.System for real time.");
        }
    }

#pragma warning restore CA2208

    internal static void CheckRange<T>(string prefix, string option, T value, T min, T max)
        where T : IComparable<T>
    {
        if (value.CompareTo(min) < 0 || value.CompareTo(max) > 0)
        {
            throw new ArgumentOutOfRangeException(
                option,
                value,
                string.Create(CultureInfo.InvariantCulture, $"{prefix}{nameof(CircuitBreakerOptions)}.{option} must be between {min} and {max}; it was {value}."));
        }
    }
}
