namespace Tripswitch.Sharing;

/// <summary>A circuit's cumulative outcome counts, as a coordinator reads them to report to its fleet.</summary>
/// <param name="Successful">Calls that succeeded since the circuit was created (never decreases).</param>
/// <param name="Failed">Calls that failed since the circuit was created (never decreases).</param>
/// <param name="ConsecutiveFailures">The handled failures in a row in the current state (reset by a success and by closing).</param>
/// <param name="Slow">
/// Calls that took longer than <see cref="CircuitBreakerOptions.SlowCallThreshold"/> since the circuit was created, whether
/// they succeeded or failed (never decreases): what a window rule's slow-call ratio counts.
/// </param>
public readonly record struct SharedCircuitCounts(long Successful, long Failed, int ConsecutiveFailures, long Slow);
