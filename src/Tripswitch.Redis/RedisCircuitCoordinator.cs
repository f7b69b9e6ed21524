using System.Collections.Concurrent;
using StackExchange.Redis;
using Tripswitch.Controller;

namespace Tripswitch.Redis;

/// <summary>
/// Joins one local circuit to its fleet. The local state machine keeps deciding on local rules; this coordinator
/// reports outcomes in batches, forwards local trips, hints and operator changes, gates half-open probes on fleet-wide
/// leases, and makes the local state follow the fleet's (newest generation wins). Nothing here ever blocks a caller or
/// lets a store exception reach one.
/// </summary>
internal sealed class RedisCircuitCoordinator : CircuitCoordinator, IDisposable
{
    private readonly RedisCircuitSharing _sharing;
    private readonly CircuitBreaker _breaker;
    private readonly CircuitStateMachine _machine;
    private readonly RedisKey[] _keys;
    private readonly ConcurrentQueue<Lease> _leases = new();
    private readonly Lock _applyLock = new();
    private readonly Lock _reportLock = new();
    private long _epoch = -1;
    private long _generation = -1;
    private SharedState? _latest;
    private bool _applying;
    private long _reportedSuccesses;
    private long _reportedFailures;
    private int _reportInFlight;
    private int _leaseRequestInFlight;
    private int _pendingTrip;
    private int _storeFailing;
    private int _disposed;

    public RedisCircuitCoordinator(RedisCircuitSharing sharing, CircuitBreaker breaker)
    {
        _sharing = sharing;
        _breaker = breaker;
        _machine = breaker.Machine;
        _keys = sharing.KeysFor(breaker.Name);

        // Outcomes from before joining are this process's own history, not news for the fleet.
        Controller.CounterSnapshot counts = _machine.Counts;
        _reportedSuccesses = counts.Successful;
        _reportedFailures = counts.Failed;
    }

    public string Name => _breaker.Name;

    private CircuitBreakerOptions Options => _machine.Options;

    /// <summary>
    /// Whether this circuit runs on its local rules now: the connection is down, or this circuit's own last script
    /// failed. On Redis Cluster one master can be unreachable while the others answer: the circuits in its slots must
    /// not wait for leases or trips that never come, however well the other circuits' scripts go.
    /// </summary>
    private bool IsDegraded => _sharing.IsDegraded || Volatile.Read(ref _storeFailing) != 0;

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

    public override void OnProbeCompleted(long lease, bool? success)
        => Send(RedisScripts.Probe, ProbeArgs(lease, success switch { true => 1, false => 0, null => -1 }));

    public override void OnLocalTrip(TimeSpan openFor, TimeSpan? retryAfterHint)
    {
        if (IsDegraded)
        {
            Volatile.Write(ref _pendingTrip, 1); // tell the fleet when the store answers again
            return;
        }

        // The local open period honours "retry after" hints (this failure's, or an earlier one's): so must the fleet's,
        // or Redis's answer would also move this process's own deadline back to the plain recovery timeout.
        TimeSpan period = openFor;
        if (retryAfterHint is { } hint)
        {
            period = TimeSpan.FromTicks(Math.Max(period.Ticks, Math.Min(hint.Ticks, Options.EffectiveMaxRecoveryTimeout.Ticks)));
        }

        CircuitSummary local = _machine.GetSummary();
        if (local.State == CircuitState.Open && local.RetryAfter > period)
        {
            period = local.RetryAfter;
        }

        Send(RedisScripts.Trip, [(long)period.TotalMilliseconds]);
    }

    public override void OnRetryAfterHint(TimeSpan hint)
        => Send(RedisScripts.Hint, [(long)Math.Min(hint.TotalMilliseconds, Options.EffectiveMaxRecoveryTimeout.TotalMilliseconds)]);

    public override void OnManualChange(CircuitState state)
        => Send(RedisScripts.Set, [state == CircuitState.Isolated ? 3 : 0]);

    public void OnTick(bool resync)
    {
        ReleaseIdleLeases();
        Report();
        if (resync)
        {
            Resync();
        }
    }

    /// <summary>
    /// Hands back the leases this instance got but did not use for <see cref="MaxLeaseIdle"/> (or that belong to a
    /// half-open period the fleet left). Without this, an instance whose callers stopped after asking for a lease kept
    /// the fleet's probe slot until the lease expired in Redis, where it counted as a failed probe and reopened the circuit.
    /// </summary>
    private void ReleaseIdleLeases()
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

    public void Resync() => Send(RedisScripts.Get, []);

    public void OnStoreRecovered()
    {
        // The pending trip is cleared only once Redis has it: until then, an answer that still shows the fleet closed
        // (e.g. the resync whose success ended the outage) must not close the circuit this process tripped.
        if (Volatile.Read(ref _pendingTrip) != 0)
        {
            if (_machine.RawState == CircuitState.Open)
            {
                _ = RunAsync(RedisScripts.Trip, [(long)_machine.GetSummary().RetryAfter.TotalMilliseconds], onSuccess: () => Volatile.Write(ref _pendingTrip, 0));
            }
            else
            {
                Volatile.Write(ref _pendingTrip, 0); // it recovered locally meanwhile: nothing to tell
            }
        }

        Report();
        Resync();
    }

    /// <summary>
    /// Reports the outcomes since the last report: how many, and the consecutive failures since the last success. The
    /// report is tagged with the fleet state (epoch, generation) it was observed under, so Redis drops it when the
    /// circuit has moved on since (an operator's reset, a fleet-wide close): an outcome from an earlier state never
    /// causes a transition of a newer one.
    /// </summary>
    private void Report()
    {
        if (Interlocked.CompareExchange(ref _reportInFlight, 1, 0) != 0)
        {
            return;
        }

        // The tag first, then the counts: a state applied in between rebases the counts, and this report is dropped.
        long epoch, generation;
        lock (_applyLock)
        {
            (epoch, generation) = (_epoch, _generation);
        }

        Controller.CounterSnapshot counts = _machine.Counts;
        long successes, failures;
        lock (_reportLock)
        {
            successes = Math.Max(0, counts.Successful - _reportedSuccesses);
            failures = Math.Max(0, counts.Failed - _reportedFailures);
        }

        if (successes == 0 && failures == 0)
        {
            Volatile.Write(ref _reportInFlight, 0);
            return;
        }

        RedisValue[] args =
        [
            successes,
            failures,
            _machine.ConsecutiveFailures,
            successes > 0 ? 1 : 0,
            Options.FailureThreshold,
            (long)Options.RecoveryTimeout.TotalMilliseconds,
            epoch,
            generation,
        ];
        _ = RunAsync(RedisScripts.Report, args, onSuccess: () => MarkReported(counts), then: () => Volatile.Write(ref _reportInFlight, 0));
    }

    /// <summary>The outcomes counted up to <paramref name="counts"/> are reported (or belong to a state the fleet left).</summary>
    private void MarkReported(Controller.CounterSnapshot counts)
    {
        lock (_reportLock)
        {
            _reportedSuccesses = Math.Max(_reportedSuccesses, counts.Successful);
            _reportedFailures = Math.Max(_reportedFailures, counts.Failed);
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
            (long)Options.RecoveryTimeout.TotalMilliseconds,
            Options.RecoveryBackoffMultiplier,
            (long)Options.EffectiveMaxRecoveryTimeout.TotalMilliseconds,
        ];
        _ = RunAsync(RedisScripts.Lease, args, onState: state =>
        {
            if (state.Extra == 1)
            {
                _leases.Enqueue(new Lease(id, _sharing.Time.GetTimestamp(), state.Epoch, state.Generation));
            }
        }, then: () => Volatile.Write(ref _leaseRequestInFlight, 0));
    }

    private RedisValue[] ProbeArgs(long lease, int outcome) =>
    [
        lease,
        outcome,
        Options.SuccessThreshold,
        (long)Options.RecoveryTimeout.TotalMilliseconds,
        Options.RecoveryBackoffMultiplier,
        (long)Options.EffectiveMaxRecoveryTimeout.TotalMilliseconds,
    ];

    private void Send(string script, RedisValue[] args) => _ = RunAsync(script, args);

    /// <summary>Runs a script without blocking the caller; its answer moves the local state. Store failures only degrade.</summary>
    private async Task RunAsync(string script, RedisValue[] args, Action? onSuccess = null, Action<SharedState>? onState = null, Action? then = null)
    {
        try
        {
            if (Volatile.Read(ref _disposed) != 0)
            {
                return;
            }

            RedisValue[] values = new RedisValue[args.Length + 3];
            values[0] = _sharing.Channel.ToString();
            values[1] = _breaker.Name;
            values[2] = (long)_sharing.Options.KeyExpiry.TotalMilliseconds;
            args.CopyTo(values, 3);
            RedisResult result = await _sharing.Database.ScriptEvaluateAsync(script, _keys, values).ConfigureAwait(false);
            SharedState state = Parse(result);
            _sharing.OnSucceeded();
            if (Interlocked.Exchange(ref _storeFailing, 0) != 0)
            {
                OnStoreRecovered(); // this circuit's master answers again (the connection as a whole may never have failed)
            }

            onSuccess?.Invoke();
            onState?.Invoke(state);
            Apply(state);
        }
#pragma warning disable CA1031 // No store failure (connection, timeout, garbage, a bug in a reply) may reach a caller.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Volatile.Write(ref _storeFailing, 1);
            _sharing.OnFailed(ex);
        }
        finally
        {
            then?.Invoke();
        }
    }

    private static SharedState Parse(RedisResult result)
    {
        if (result.Resp2Type != ResultType.Array || result.Length != 5)
        {
            throw new InvalidDataException($"The circuit store answered with an unexpected reply ({result.Resp2Type}).");
        }

        long state = (long)result[2];
        if (state is < 0 or > 3)
        {
            throw new InvalidDataException($"The circuit store answered with an unknown state ({state}).");
        }

        return new SharedState((long)result[0], (long)result[1], (CircuitState)state, Math.Max(0, (long)result[3]), (long)result[4]);
    }

    /// <summary>Makes the local state follow the fleet's when the fleet's is newer than the last one applied.</summary>
    public void Apply(SharedState state)
    {
        lock (_applyLock)
        {
            if (state.Epoch == _epoch && state.Generation <= _generation)
            {
                return; // an answer or message older than what was applied already
            }

            _epoch = state.Epoch;
            _generation = state.Generation;
            _latest = state;
            if (_applying)
            {
                return; // the thread applying now applies this one next: the newest state is always applied last
            }

            _applying = true;
        }

        // One thread applies at a time, outside the lock (state-change handlers run during ApplyRemote), until no newer
        // state arrived meanwhile.
        while (true)
        {
            SharedState next;
            lock (_applyLock)
            {
                if (_latest is not { } latest)
                {
                    _applying = false;
                    return;
                }

                next = latest;
                _latest = null;
            }

            ApplyNow(next);
        }
    }

    private void ApplyNow(SharedState state)
    {
        // The fleet moved on: the outcomes seen so far belong to the state it left and are never reported.
        MarkReported(_machine.Counts);

        CircuitState local = _machine.RawState;
        if (state.State == local && state.State != CircuitState.Open)
        {
            return;
        }

        // A process that tripped locally while the store was down keeps its open period until the fleet hears of it.
        if (state.State == CircuitState.Closed && local == CircuitState.Open && Volatile.Read(ref _pendingTrip) != 0)
        {
            return;
        }

        _machine.ApplyRemote(state.State, TimeSpan.FromMilliseconds(state.RemainingMs));
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
