namespace Tripswitch.Controller;

/// <summary>
/// The seam where shared state (a fleet of processes sharing one circuit, e.g. through Redis) plugs into a circuit's
/// state machine. The machine stays the only place that changes the local state; a coordinator only
/// (1) gates half-open probes on fleet-wide leases, (2) hears about the local decisions the fleet must know about, and
/// (3) pushes the fleet's state back through <see cref="CircuitStateMachine.ApplyRemote"/>.
/// None of its methods may block on the network: they are called on callers' threads, some of them under the machine's lock.
/// </summary>
internal abstract class CircuitCoordinator
{
    /// <summary>
    /// Called under the machine's lock when a half-open caller would become a probe. Must not block. Returns
    /// <see langword="false"/> to reject the caller (no fleet-wide probe lease is available to this process now); on
    /// <see langword="true"/>, <paramref name="lease"/> is the token to report with the probe's outcome (0 when the
    /// decision is local, e.g. while the shared store is unreachable).
    /// </summary>
    public abstract bool TryTakeProbeLease(out long lease);

    /// <summary>Called outside the lock when a probe that held <paramref name="lease"/> reported: success, failure, or neither (ignored or abandoned).</summary>
    public abstract void OnProbeCompleted(long lease, bool? success);

    /// <summary>Called outside the lock after the local rules tripped the circuit (closed → open).</summary>
    public abstract void OnLocalTrip(TimeSpan openFor, TimeSpan? retryAfterHint);

    /// <summary>Called outside the lock after a failure with a "retry after" hint that did not trip the circuit.</summary>
    public abstract void OnRetryAfterHint(TimeSpan hint);

    /// <summary>Called outside the lock after an operator isolated or reset the circuit.</summary>
    public abstract void OnManualChange(CircuitState state);
}
