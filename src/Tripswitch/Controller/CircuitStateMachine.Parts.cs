using System.Diagnostics;

namespace Tripswitch.Controller;

/// <summary>
/// The parts a circuit makes at first use (the lock, the probe slots, the transition log) and the direct calls to its
/// breaker: a cold circuit of a large registry costs a few hundred bytes, not a kilobyte.
/// </summary>
internal sealed partial class CircuitStateMachine
{
    /// <summary>
    /// The lock (see the remarks), made by the first thread that needs it. Two threads may make one each at once; the
    /// compare-and-swap publishes exactly one, and both use that one, so every caller locks the same object.
    /// </summary>
    internal Lock Sync
    {
        get
        {
            return Volatile.Read(ref _lock) ?? Create();

            Lock Create()
            {
                var made = new Lock();
                return Interlocked.CompareExchange(ref _lock, made, null) ?? made;
            }
        }
    }

    /// <summary>The half-open probe slots, made under the lock when first needed (the first probe).</summary>
    private ProbeSlots ProbesLocked
    {
        get
        {
            Debug.Assert(Sync.IsHeldByCurrentThread, "Probe slots are made and used under the lock.");
            if (_probes is null)
            {
                // Published with a volatile write: lock-free readers (ProbesInFlight, ProbeDeadline) see it whole.
                Volatile.Write(ref _probes, new ProbeSlots(_options.HalfOpenMaxCalls, ToTimestampTicks(_options.HalfOpenProbeTimeout, _time.TimestampFrequency)));
            }

            return _probes;
        }
    }

    /// <summary>How many probes are in flight (lock-free; none before the first probe).</summary>
    private int ProbesInFlight => Volatile.Read(ref _probes)?.InFlight ?? 0;

    /// <summary>When the first probe in flight times out (lock-free; <see cref="long.MaxValue"/> when none is).</summary>
    private long ProbeDeadline => Volatile.Read(ref _probes)?.EarliestDeadline ?? long.MaxValue;

    /// <summary>Delivers the queued transitions, if any (outside the lock).</summary>
    private void Dispatch() => Volatile.Read(ref _log)?.Dispatch();

    /// <summary>Tells the telemetry and the owning breaker of <paramref name="transition"/> (the log calls it, outside the lock, in order).</summary>
    private void Deliver(CircuitTransition transition)
    {
        TripswitchTelemetry.OnTransition(this, transition);
        _owner.OnStateChanged(transition);
    }
}
