using System.Collections.Concurrent;
using StackExchange.Redis;
using Tripswitch.Sharing;

namespace Tripswitch.Redis;

/// <summary>
/// Joins one local circuit to its fleet. The local state machine keeps deciding on local rules (but for a window rule,
/// which the fleet judges while Redis answers: see <see cref="JudgesFailureWindow"/>); this coordinator reports outcomes
/// in batches, forwards local trips, hints and operator changes, gates half-open probes on fleet-wide
/// leases, and makes the local state follow the fleet's (newest generation wins). Nothing here ever blocks a caller or
/// lets a store exception reach one.
/// </summary>
internal sealed partial class RedisCircuitCoordinator : CircuitCoordinator, IDisposable
{
    private readonly RedisCircuitSharing _sharing;
    private readonly SharedCircuit _circuit;
    private readonly RedisKey[] _keys;
    private readonly ConcurrentQueue<Lease> _leases = new();
    private readonly Lock _applyLock = new();
    private readonly Lock _reportLock = new();
    private long _epoch = -1;
    private long _generation = -1;
    private (SharedState State, long Version, bool Again)? _latest;
    private bool _applying;
    private bool _reapply; // the circuit refused the state of (_epoch, _generation): take it again from a later read
    private long _reportedSuccesses;
    private long _reportedFailures;
    private long _reportedSlow;
    private int _reportInFlight;
    private int _leaseRequestInFlight;
    private int _pendingTrip;
    private int _storeFailing;
    private long _fleetAttempt;
    private long _reopenMs;
    private long _pendingHintTicks;
    private bool _appliedAny;
    private int _disposed;

    public RedisCircuitCoordinator(RedisCircuitSharing sharing, SharedCircuit circuit)
    {
        _sharing = sharing;
        _circuit = circuit;
        _keys = sharing.KeysFor(circuit.Name);

        // Outcomes from before joining are this process's own history, not news for the fleet.
        SharedCircuitCounts counts = _circuit.ReadCounts();
        _reportedSuccesses = counts.Successful;
        _reportedFailures = counts.Failed;
        _reportedSlow = counts.Slow;
    }

    public string Name => _circuit.Name;

    /// <summary>The circuit's keys: its hash and its leases (one hash slot).</summary>
    public RedisKey[] Keys => _keys;

    /// <summary>The circuit's version now (a pushed message is compared against what the circuit knows when it arrives).</summary>
    public long Version => _circuit.Version;

    private CircuitBreakerOptions Options => _circuit.Options;

    /// <summary>
    /// Whether this circuit runs on its local rules now: the connection is down, or this circuit's own last script
    /// failed. On Redis Cluster one master can be unreachable while the others answer: the circuits in its slots must
    /// not wait for leases or trips that never come, however well the other circuits' scripts go.
    /// </summary>
    private bool IsDegraded => _sharing.IsDegraded || Volatile.Read(ref _storeFailing) != 0;

    /// <summary>
    /// While Redis answers, the fleet's window judges a window-rule circuit (the script that takes the reports keeps it on
    /// the server's clock); while this circuit runs on local rules, its own window, which kept counting, judges again.
    /// </summary>
    public override bool JudgesFailureWindow => !IsDegraded;

    public override bool TryTakeProbeLease(out long lease)
    {
        lease = 0;
        if (IsDegraded)
        {
            return true; // the store is down: the local rules decide alone
        }

        long now = _sharing.Time.GetTimestamp();
        while (_leases.TryDequeue(out Lease granted))
        {
            if (!IsStale(granted) && _sharing.Time.GetElapsedTime(granted.GrantedAt, now) < MaxLeaseIdle)
            {
                lease = granted.Id;
                return true;
            }

            Send(RedisScripts.Probe, ProbeArgs(granted.Id, outcome: -1));
        }

        RequestLease();
        return false;
    }

    /// <summary>
    /// Whether a lease belongs to a half-open period the fleet has left: every transition deletes the leases in Redis, so
    /// using it would run a probe beyond the fleet's HalfOpenMaxCalls (and its outcome would count nowhere).
    /// </summary>
    private bool IsStale(Lease lease)
    {
        lock (_applyLock)
        {
            return lease.Epoch != _epoch || lease.Generation < _generation;
        }
    }

    /// <summary>A lease nobody used for this long is handed back, so an idle process never holds the fleet's probe slot.</summary>
    private TimeSpan MaxLeaseIdle => Options.HalfOpenProbeTimeout / 4;

    public override void OnProbeCompleted(long lease, ProbeOutcome outcome, TimeSpan reopenFor)
    {
        if (outcome != ProbeOutcome.Failed)
        {
            Send(RedisScripts.Probe, ProbeArgs(lease, outcome == ProbeOutcome.Succeeded ? 1 : -1));
            return;
        }

        // reopenFor is the circuit's policy for its own count of openings (with this failure's cause and hint). The fleet
        // may have reopened more often than this instance saw (other instances' failed probes): then its count sets the
        // backoff, through the same policy.
        TimeSpan period = reopenFor;
        int attempt = (int)Math.Min(int.MaxValue - 1, Volatile.Read(ref _fleetAttempt)) + 1;
        if (attempt > 2)
        {
            TimeSpan fleet = _circuit.ComputeOpenPeriod(attempt);
            period = fleet > period ? fleet : period;
        }

        Send(RedisScripts.Probe, ProbeArgs(lease, outcome: 0, (long)period.TotalMilliseconds));
    }

    public override void OnLocalTrip(TimeSpan openFor, TimeSpan? retryAfterHint, long version)
    {
        if (IsDegraded)
        {
            Volatile.Write(ref _pendingTrip, 1); // tell the fleet when the store answers again
            return;
        }

        // openFor is the local open period, hints included: the fleet opens for the same.
        Send(RedisScripts.Trip, [(long)openFor.TotalMilliseconds]);
    }

    /// <summary>
    /// The hint extends the fleet's open period now, or (while the fleet is closed) holds for its next opening; it also
    /// goes into the open period this instance's next report proposes, so the failure that completes the fleet's count
    /// opens it for the hinted period even when that report overtakes this script.
    /// </summary>
    public override void OnRetryAfterHint(TimeSpan hint)
    {
        long ticks = hint.Ticks;
        long seen = Volatile.Read(ref _pendingHintTicks);
        while (ticks > seen && Interlocked.CompareExchange(ref _pendingHintTicks, ticks, seen) != seen)
        {
            seen = Volatile.Read(ref _pendingHintTicks);
        }

        Send(RedisScripts.Hint, [(long)hint.TotalMilliseconds]);
    }

    public override void OnManualChange(CircuitState state, long version)
        => Send(RedisScripts.Set, [state == CircuitState.Isolated ? 3 : 0]);

    /// <summary>
    /// Hands back the leases this instance got but did not use for <see cref="MaxLeaseIdle"/> (or that belong to a
    /// half-open period the fleet left). Without this, an instance whose callers stopped after asking for a lease kept
    /// the fleet's probe slot until the lease expired in Redis, where it counted as a failed probe and reopened the circuit.
    /// </summary>
    public void ReleaseIdleLeases()
    {
        if (_leases.IsEmpty)
        {
            return;
        }

        long now = _sharing.Time.GetTimestamp();
        for (int i = _leases.Count; i > 0 && _leases.TryDequeue(out Lease granted); i--)
        {
            if (IsStale(granted) || _sharing.Time.GetElapsedTime(granted.GrantedAt, now) >= MaxLeaseIdle)
            {
                Send(RedisScripts.Probe, ProbeArgs(granted.Id, outcome: -1));
            }
            else
            {
                _leases.Enqueue(granted); // still fresh: a caller may take it
            }
        }
    }

    private void RequestLease()
    {
        if (Interlocked.CompareExchange(ref _leaseRequestInFlight, 1, 0) != 0)
        {
            return;
        }

        long id = Random.Shared.NextInt64(1, long.MaxValue);
        RedisValue[] args =
        [
            id,
            Options.HalfOpenMaxCalls,
            (long)Options.HalfOpenProbeTimeout.TotalMilliseconds,
            ReopenMs,
        ];
        _ = RunAsync(RedisScripts.Lease, args, onState: state =>
        {
            if (state.Extra == 1)
            {
                _leases.Enqueue(new Lease(id, _sharing.Time.GetTimestamp(), state.Epoch, state.Generation));
            }
        }, then: () => Volatile.Write(ref _leaseRequestInFlight, 0));
    }

    /// <param name="lease">The lease.</param>
    /// <param name="outcome">1 success, 0 failure, -1 released.</param>
    /// <param name="reopenMs">The period a failure (or an expired lease) reopens the fleet for; by default <see cref="ReopenMs"/>.</param>
    private RedisValue[] ProbeArgs(long lease, int outcome, long reopenMs = -1) =>
    [
        lease,
        outcome,
        Options.SuccessThreshold,
        reopenMs >= 0 ? reopenMs : ReopenMs,
    ];

    /// <summary>
    /// The period the fleet reopens for when Redis finds a probe lease expired (a failed probe nobody reported): the
    /// circuit's policy for the fleet's next opening, computed in advance outside the circuit's lock (see
    /// <see cref="RefreshReopenPeriod"/>), because a lease is asked for under that lock.
    /// </summary>
    private long ReopenMs => Volatile.Read(ref _reopenMs) is > 0 and var ms ? ms : (long)Options.RecoveryTimeout.TotalMilliseconds;

    /// <summary>Computes the next reopening's period for the fleet's current count of openings (never under the circuit's lock).</summary>
    private void RefreshReopenPeriod(long attempt)
    {
        int next = (int)Math.Min(int.MaxValue - 1, Math.Max(1, attempt)) + 1;
        Volatile.Write(ref _reopenMs, (long)_circuit.ComputeOpenPeriod(next).TotalMilliseconds);
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _sharing.Leave(this);
        }
    }

    /// <summary>A probe lease Redis granted, in the half-open period (epoch, generation) it was granted in.</summary>
    private readonly record struct Lease(long Id, long GrantedAt, long Epoch, long Generation);
}
