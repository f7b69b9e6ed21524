using StackExchange.Redis;
using Tripswitch.Sharing;

namespace Tripswitch.Redis;

/// <summary>The coordinator's side that talks to Redis: reports, resyncs, running scripts, and following the fleet's state.</summary>
internal sealed partial class RedisCircuitCoordinator
{
    public void Resync() => Send(RedisScripts.Get, []);

    public void OnStoreRecovered()
    {
        // The pending trip is cleared only once Redis has it: until then, an answer that still shows the fleet closed
        // (e.g. the resync whose success ended the outage) must not close the circuit this process tripped.
        if (Volatile.Read(ref _pendingTrip) != 0)
        {
            if (_circuit.State == CircuitState.Open)
            {
                _ = RunAsync(RedisScripts.Trip, [(long)_circuit.Breaker.GetSummary().RetryAfter.TotalMilliseconds], onSuccess: () => Volatile.Write(ref _pendingTrip, 0));
            }
            else
            {
                Volatile.Write(ref _pendingTrip, 0); // it recovered locally meanwhile: nothing to tell
            }
        }

        Resync(); // the next tick reports what was seen meanwhile
    }

    /// <summary>
    /// Takes the report of the outcomes since the last one, for the next batch (<see cref="RedisBatcher"/>): how many, and
    /// the consecutive failures since the last success. The report is tagged with the fleet state (epoch, generation) it
    /// was observed under, so Redis drops it when the circuit has moved on since (an operator's reset, a fleet-wide
    /// close): an outcome from an earlier state never causes a transition of a newer one. At most one report of a circuit
    /// is in flight; <see cref="OnReported"/> ends it.
    /// </summary>
    /// <param name="report">The report: <see cref="RedisScripts.ReportArgs"/> script arguments, the name first.</param>
    /// <returns>Whether there is anything to report.</returns>
    public bool TryTakeReport(out PendingReport report)
    {
        report = default;
        if (Volatile.Read(ref _disposed) != 0 || Interlocked.CompareExchange(ref _reportInFlight, 1, 0) != 0)
        {
            return false;
        }

        long version = _circuit.Version;

        // The tag first, then the counts: a state applied in between rebases the counts, and this report is dropped.
        long epoch, generation;
        lock (_applyLock)
        {
            (epoch, generation) = (_epoch, _generation);
        }

        SharedCircuitCounts counts = _circuit.ReadCounts();
        long successes, failures, slow;
        lock (_reportLock)
        {
            successes = Math.Max(0, counts.Successful - _reportedSuccesses);
            failures = Math.Max(0, counts.Failed - _reportedFailures);
            slow = Math.Max(0, counts.Slow - _reportedSlow);
        }

        if (successes == 0 && failures == 0)
        {
            Volatile.Write(ref _reportInFlight, 0);
            return false;
        }

        // Sharing never changes which rule a circuit runs: the fleet counts consecutive failures only for a circuit whose
        // rule is the consecutive-failure rule (threshold 0 turns the count off); a window-rule circuit is judged on the
        // fleet's window, which these outcomes feed (RedisWindowScript).
        CircuitBreakerOptions options = Options;
        bool window = options.Rule != FailureRule.ConsecutiveFailures;
        long threshold = window ? 0 : options.FailureThreshold;

        // Should these outcomes open the fleet (complete its count, or tip its window), it opens for what this circuit's
        // policy computes now (the latest Retry-After hint included): the same period the circuit would set alone.
        long hintTicks = Interlocked.Exchange(ref _pendingHintTicks, 0);
        bool mayOpen = failures > 0 || (window && slow > 0);
        long openMs = mayOpen ? (long)_circuit.ComputeOpenPeriod(1, cause: null, retryAfter: hintTicks > 0 ? TimeSpan.FromTicks(hintTicks) : null).TotalMilliseconds : 0;
        var args = new RedisValue[RedisScripts.ReportArgs];
        args[0] = _circuit.Name;
        args[1] = successes;
        args[2] = failures;
        args[3] = counts.ConsecutiveFailures;
        args[4] = successes > 0 ? 1 : 0;
        args[5] = threshold;
        args[6] = openMs;
        args[7] = epoch;
        args[8] = generation;
        RedisWindowScript.WriteReport(args.AsSpan(RedisScripts.ReportArgs - RedisWindowScript.ReportArgs), options, slow);
        report = new PendingReport(this, args, counts, version);
        return true;
    }

    /// <summary>The answer to a report (or the failure of its batch): the outcomes are reported, and the fleet's state is followed.</summary>
    /// <param name="report">The report <see cref="TryTakeReport"/> took.</param>
    /// <param name="state">The circuit's state in Redis after the report, or <see langword="null"/> when the batch failed.</param>
    /// <param name="error">Why the batch failed.</param>
    public void OnReported(PendingReport report, SharedState? state, Exception? error)
    {
        try
        {
            if (state is { } answer)
            {
                MarkReported(report.Counts);
                OnAnswer(answer, report.Version);
            }
            else if (error is not null)
            {
                OnStoreFailed(error);
            }
        }
        finally
        {
            Volatile.Write(ref _reportInFlight, 0);
        }
    }

    /// <summary>The outcomes counted up to <paramref name="counts"/> are reported (or belong to a state the fleet left).</summary>
    private void MarkReported(SharedCircuitCounts counts)
    {
        lock (_reportLock)
        {
            _reportedSuccesses = Math.Max(_reportedSuccesses, counts.Successful);
            _reportedFailures = Math.Max(_reportedFailures, counts.Failed);
            _reportedSlow = Math.Max(_reportedSlow, counts.Slow);
        }
    }

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

            // What the circuit knew when this was sent: the answer must not undo a decision it takes meanwhile.
            long version = _circuit.Version;
            RedisValue[] values = new RedisValue[args.Length + 3];
            values[0] = _sharing.Channel.ToString();
            values[1] = _circuit.Name;
            values[2] = (long)_sharing.Options.KeyExpiry.TotalMilliseconds;
            args.CopyTo(values, 3);
            RedisResult result = await _sharing.Database.ScriptEvaluateAsync(script, _keys, values).ConfigureAwait(false);
            SharedState state = Parse(result);
            onSuccess?.Invoke();
            onState?.Invoke(state);
            OnAnswer(state, version);
        }
#pragma warning disable CA1031 // No store failure (connection, timeout, garbage, a bug in a reply) may reach a caller.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            OnStoreFailed(ex);
        }
        finally
        {
            then?.Invoke();
        }
    }

    /// <summary>Redis answered a script about this circuit: the store works, and the fleet's state is followed.</summary>
    /// <param name="state">The circuit's state in the answer.</param>
    /// <param name="version">The circuit's version when the script was sent.</param>
    public void OnAnswer(SharedState state, long version)
    {
        _sharing.OnSucceeded();
        if (Interlocked.Exchange(ref _storeFailing, 0) != 0)
        {
            OnStoreRecovered(); // this circuit's master answers again (the connection as a whole may never have failed)
        }

        Apply(state, version);
    }

    /// <summary>A script about this circuit failed: the circuit runs on its local rules until one succeeds.</summary>
    /// <param name="error">The failure.</param>
    public void OnStoreFailed(Exception error)
    {
        Volatile.Write(ref _storeFailing, 1);
        _sharing.OnFailed(error);
    }

    /// <summary>Parses one circuit's reply: {epoch, generation, state, remaining ms, extra, open attempt}.</summary>
    /// <param name="result">The reply.</param>
    /// <returns>The state.</returns>
    public static SharedState Parse(RedisResult result)
    {
        if (result.Resp2Type != ResultType.Array || result.Length != 6)
        {
            throw new InvalidDataException($"The circuit store answered with an unexpected reply ({result.Resp2Type}).");
        }

        long state = (long)result[2];
        if (state is < 0 or > 3)
        {
            throw new InvalidDataException($"The circuit store answered with an unknown state ({state}).");
        }

        return new SharedState((long)result[0], (long)result[1], (CircuitState)state, Math.Max(0, (long)result[3]), (long)result[4], Math.Max(0, (long)result[5]));
    }

    /// <summary>
    /// Makes the local state follow the fleet's when the fleet's is newer than the last one applied, and the circuit
    /// made no decision of its own since <paramref name="version"/> (when the read was sent, or the message arrived).
    /// </summary>
    public void Apply(SharedState state, long version)
    {
        lock (_applyLock)
        {
            bool again = state.Epoch == _epoch && state.Generation == _generation;
            if (state.Epoch == _epoch && (state.Generation < _generation || (again && !_reapply)))
            {
                return; // an answer or message older than what was applied already
            }

            _reapply = false;
            _epoch = state.Epoch;
            _generation = state.Generation;
            _latest = (state, version, again);
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
            (SharedState State, long Version, bool Again) next;
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

            ApplyNow(next.State, next.Version, next.Again);
        }
    }

    private void ApplyNow(SharedState state, long version, bool again)
    {
        // The fleet moved on: the outcomes seen so far belong to the state it left and are never reported. Not so for the
        // first state this instance learns (its join read): the outcomes since joining are news for the fleet (those from
        // before joining were excluded when it joined), nor for a state taken again (the fleet did not move).
        if (_appliedAny && !again)
        {
            MarkReported(_circuit.ReadCounts());
        }

        _appliedAny = true; // one thread applies at a time (see Apply)
        if (state.Attempt >= 0 && state.State is CircuitState.Open or CircuitState.HalfOpen
            && (Interlocked.Exchange(ref _fleetAttempt, state.Attempt) != state.Attempt || Volatile.Read(ref _reopenMs) == 0))
        {
            RefreshReopenPeriod(state.Attempt);
        }

        CircuitState local = _circuit.State;
        if (state.State == local && state.State != CircuitState.Open)
        {
            return;
        }

        // A process that tripped locally while the store was down keeps its open period until the fleet hears of it.
        if (state.State == CircuitState.Closed && local == CircuitState.Open && Volatile.Read(ref _pendingTrip) != 0)
        {
            return;
        }

        if (!_circuit.ApplyRemote(state.State, TimeSpan.FromMilliseconds(state.RemainingMs), version))
        {
            // The circuit decided something after this state was read (a local transition), so it refused it. Without
            // this, the same fleet state read again later (on the next resync, based on the circuit's new version) would
            // be skipped as already applied, and a circuit whose local half-open the fleet had already closed would wait
            // for probes it can never get until the fleet's state changed again.
            lock (_applyLock)
            {
                _reapply |= _epoch == state.Epoch && _generation == state.Generation;
            }
        }
    }
}

/// <summary>A circuit's outcome report waiting for its batch: the script arguments (name first), the counts it covers, and the circuit's version when it was taken.</summary>
internal readonly record struct PendingReport(RedisCircuitCoordinator Circuit, RedisValue[] Args, SharedCircuitCounts Counts, long Version);
