namespace Tripswitch.Sharing;

/// <summary>
/// The seam where shared state (a fleet of processes sharing one circuit through Redis, an in-memory fleet in tests, or
/// any other store) plugs into one circuit. Implement it, and give a factory to
/// <see cref="CircuitBreakerRegistry.SetCoordinatorFactory"/> or <see cref="CircuitBreaker.SetCoordinator"/>: the factory
/// receives the circuit's <see cref="SharedCircuit"/>, the coordinator's only way in.
/// </summary>
/// <remarks>
/// <para>
/// <b>Who decides.</b> The circuit's state machine stays the only place that changes its state. A coordinator
/// (1) gates half-open probes on fleet-wide leases (<see cref="TryTakeProbeLease"/>), (2) hears about the decisions the
/// circuit made on its own (<see cref="OnLocalTrip"/>, <see cref="OnProbeCompleted"/>, <see cref="OnRetryAfterHint"/>,
/// <see cref="OnManualChange"/>), and (3) pushes the fleet's state back through <see cref="SharedCircuit.ApplyRemote"/>,
/// which applies it only when it is newer than what the circuit knows.
/// </para>
/// <para>
/// <b>Threading.</b> Every member is called on the thread of a caller of the circuit (never on a thread of its own), and
/// concurrently from several callers. <see cref="TryTakeProbeLease"/> runs under the circuit's lock; the others run after
/// the lock was released. None of them may block (no network round trip, no waiting on a lock a network call holds):
/// start the store's work asynchronously and return. None of them may throw: an exception reaches the caller whose call
/// made the notification. The hot path (a closed circuit's calls) never calls the coordinator.
/// </para>
/// <para>
/// <b>Open periods.</b> The fleet opens for the period the circuit's own break-duration policy computes (recovery
/// timeout, backoff, jitter, <see cref="CircuitBreakerOptions.BreakDurationGenerator"/>, Retry-After hints, caps): the
/// instance that trips or fails a probe passes the period it computed (<c>openFor</c>, <c>reopenFor</c>); to have a
/// failure that completes the fleet's count set the fleet's period, compute "the open period if this trips" with
/// <see cref="SharedCircuit.ComputeOpenPeriod"/> when you report it. Never re-implement the formula in the store.
/// </para>
/// <para>
/// <b>Lifetime.</b> A coordinator made by a factory belongs to its circuit: when it is replaced, detached, or the
/// registry evicts its circuit, it is disposed if it implements <see cref="IDisposable"/>.
/// </para>
/// </remarks>
public abstract class CircuitCoordinator
{
    /// <summary>
    /// Called <b>under the circuit's lock</b> when a half-open caller would become a probe. Must not block and must not
    /// call back into the circuit. Returns <see langword="false"/> to reject the caller (no fleet-wide probe lease is
    /// available to this process now; typically ask the store for one asynchronously so a later caller gets it).
    /// </summary>
    /// <param name="lease">
    /// On <see langword="true"/>, the token the circuit hands back to <see cref="OnProbeCompleted"/> with the probe's
    /// outcome; 0 when the decision is local (e.g. while the store is unreachable), then no completion is reported.
    /// </param>
    /// <returns>Whether the caller may run as a probe.</returns>
    public abstract bool TryTakeProbeLease(out long lease);

    /// <summary>
    /// Whether the fleet judges the circuit's failure-rate window now, so the circuit's own window must not trip it alone.
    /// Read only for a circuit whose <see cref="CircuitBreakerOptions.Rule"/> is <see cref="FailureRule.CountWindow"/> or
    /// <see cref="FailureRule.TimeWindow"/>, outside the circuit's lock, on the thread of a caller whose failure (or slow
    /// call) the window has just counted. Must not block and must not throw.
    /// </summary>
    /// <value>
    /// <see langword="false"/> by default: the circuit's own window decides and a trip is reported through
    /// <see cref="OnLocalTrip"/>. Return <see langword="true"/> while the store judges the fleet's calls: the circuit's
    /// window keeps counting the instance's own calls but never opens the circuit by itself (even when this instance
    /// alone meets the thresholds: the fleet's calls decide), and the fleet's verdict arrives through
    /// <see cref="SharedCircuit.ApplyRemote"/>. Return <see langword="false"/> again while the store is unreachable: the
    /// window, which kept counting, then judges the instance's calls at once (the next failure may trip it).
    /// </value>
    public virtual bool JudgesFailureWindow => false;

    /// <summary>Called outside the lock when a probe that held a non-zero <paramref name="lease"/> ended.</summary>
    /// <param name="lease">The lease <see cref="TryTakeProbeLease"/> gave it.</param>
    /// <param name="outcome">Whether it succeeded, failed (the circuit reopened), or ended without a verdict.</param>
    /// <param name="reopenFor">
    /// When <paramref name="outcome"/> is <see cref="ProbeOutcome.Failed"/>, the open period the circuit's break-duration
    /// policy computed for the reopening (backoff, jitter, generator, hint and caps applied): the period the fleet should
    /// reopen for. Otherwise <see cref="TimeSpan.Zero"/>.
    /// </param>
    public abstract void OnProbeCompleted(long lease, ProbeOutcome outcome, TimeSpan reopenFor);

    /// <summary>Called outside the lock after the circuit's own rules tripped it (closed → open).</summary>
    /// <param name="openFor">
    /// The open period the circuit set, computed by its break-duration policy and extended by any Retry-After hint it
    /// knew of: the period the fleet should open for.
    /// </param>
    /// <param name="retryAfterHint">The Retry-After hint of the failure that tripped it, if it carried one.</param>
    /// <param name="version">The circuit's <see cref="SharedCircuit.Version"/> right after the trip.</param>
    public abstract void OnLocalTrip(TimeSpan openFor, TimeSpan? retryAfterHint, long version);

    /// <summary>
    /// Called outside the lock after a failure carrying a Retry-After hint that did not trip the circuit (it extends a
    /// current open period, or the next one). To let the failure that completes the fleet's count open the fleet for
    /// the hinted period, carry it with your next report (see <see cref="SharedCircuit.ComputeOpenPeriod"/>).
    /// </summary>
    /// <param name="hint">The hint, never negative and never above <see cref="SharedCircuit.MaxOpenPeriod"/>.</param>
    public abstract void OnRetryAfterHint(TimeSpan hint);

    /// <summary>Called outside the lock after an operator isolated (<see cref="CircuitBreaker.Isolate"/>) or reset (<see cref="CircuitBreaker.Reset"/>) the circuit.</summary>
    /// <param name="state">The state the operator set: <see cref="CircuitState.Isolated"/> or <see cref="CircuitState.Closed"/>.</param>
    /// <param name="version">The circuit's <see cref="SharedCircuit.Version"/> right after the change.</param>
    public abstract void OnManualChange(CircuitState state, long version);
}
