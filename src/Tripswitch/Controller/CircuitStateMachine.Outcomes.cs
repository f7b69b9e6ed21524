using System.Runtime.CompilerServices;

namespace Tripswitch.Controller;

/// <summary>The second half of the two-step primitive: a permit's outcome, counted and (for its own generation only) decided on.</summary>
internal sealed partial class CircuitStateMachine
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void OnSuccess(in CircuitPermit permit)
    {
        // The hot path: a closed-state call, not timed, consecutive rule. One increment of the slot its start was counted
        // in and one read of the failure word (a write only when there is a count to reset).
        if (((long)permit.Kind | permit.StartTimestamp) == 0 && _windowRule is null)
        {
            CallCounters.Slot slot = permit.Slot;
            slot.Increment(ref slot.Successful);
            ResetConsecutive(permit.Generation);
            return;
        }

        OnSuccessSlow(permit);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void ResetConsecutive(int generation)
    {
        long fw = Volatile.Read(ref _failureWord);
        if ((fw & CountMask) != 0 && (int)(fw >>> 32) == generation)
        {
            ResetConsecutiveSlow(fw, generation);
        }
    }

    /// <summary>Resets the count, retrying when a concurrent failure changed it (that failure came before this success).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ResetConsecutiveSlow(long fw, int generation)
    {
        while ((fw & CountMask) != 0 && (int)(fw >>> 32) == generation)
        {
            long seen = Interlocked.CompareExchange(ref _failureWord, fw & ~CountMask, fw);
            if (seen == fw)
            {
                return;
            }

            fw = seen;
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void OnSuccessSlow(in CircuitPermit permit)
    {
        if (!IsFirstReport(permit))
        {
            return;
        }

        CallCounters.Slot slot = _counters.Current;
        bool slow = permit.StartTimestamp != 0 && IsSlow(permit, success: true);
        if (slow && _slowIsFailure)
        {
            // A slow call is a failure, even though it answered: a hung upstream must trip the circuit.
            OnFailureCore(permit, slot, exception: null, hint: null, slow: true);
            return;
        }

        slot.Increment(ref slot.Successful);
        if (slow)
        {
            slot.Increment(ref slot.Slow);
        }

        if (permit.Kind != PermitKind.Closed)
        {
            if (permit.Kind == PermitKind.Probe)
            {
                ProbeSucceeded(permit.ProbeId);
            }

            return; // a shadow call only counts
        }

        // A success resets the consecutive count of its own generation; writing only when there is something to
        // reset keeps the cache line shared between cores while all is well.
        if ((int)(Volatile.Read(ref _failureWord) >>> 32) != permit.Generation)
        {
            return; // the circuit moved on since this call started
        }

        ResetConsecutive(permit.Generation);
        if (_windowRule is not null)
        {
            _windowRule.Record(slot, failure: false, slow);
            if (slow && WindowSaysOpen(_windowRule))
            {
                TryTrip(permit.Generation, cause: null, hint: null);
            }
        }
    }

    public void OnFailure(in CircuitPermit permit, Exception? exception, TimeSpan? hint)
    {
        if (!IsFirstReport(permit))
        {
            return;
        }

        bool slow = permit.StartTimestamp != 0 && IsSlow(permit, success: false, exception);
        OnFailureCore(permit, _counters.Current, exception, hint, slow);
    }

    private void OnFailureCore(in CircuitPermit permit, CallCounters.Slot slot, Exception? exception, TimeSpan? hint, bool slow)
    {
        slot.Increment(ref slot.Failed);
        if (slow)
        {
            slot.Increment(ref slot.Slow);
        }

        if (permit.Kind == PermitKind.Shadow)
        {
            return;
        }

        hint ??= _policy.ExtractHint(exception);
        if (permit.Kind == PermitKind.Probe)
        {
            FailProbe(permit.ProbeId, exception, hint);
            return;
        }

        while (true)
        {
            long fw = Volatile.Read(ref _failureWord);
            if ((int)(fw >>> 32) != permit.Generation)
            {
                // The circuit moved on since this call started: no transition, but a server's "retry after" still
                // extends an open period.
                if (hint is not null)
                {
                    ApplyHint(permit.Generation, hint.Value, staleCall: true);
                }

                return;
            }

            long next = fw + 1;
            if (Interlocked.CompareExchange(ref _failureWord, next, fw) == fw)
            {
                if (ShouldOpen(slot, next & CountMask, slow))
                {
                    TryTrip(permit.Generation, exception, hint);
                }
                else if (hint is not null)
                {
                    ApplyHint(permit.Generation, hint.Value, staleCall: false);
                }

                return;
            }
        }
    }

    /// <summary>Records a closed-state failure in the rule and asks it whether the circuit should open.</summary>
    private bool ShouldOpen(CallCounters.Slot slot, long consecutive, bool slow)
    {
        if (_windowRule is not { } rule)
        {
            return consecutive >= (uint)_options.FailureThreshold;
        }

        rule.Record(slot, failure: true, slow);
        return WindowSaysOpen(rule);
    }

    /// <summary>
    /// Whether the window, which has just counted a call, opens the circuit: not while the fleet judges it (see
    /// <see cref="Sharing.CircuitCoordinator.JudgesFailureWindow"/>): the window keeps counting, so it can judge at
    /// once when the fleet stops judging.
    /// </summary>
    private bool WindowSaysOpen(Health.WindowRule rule)
        => Volatile.Read(ref _coordinator) is not { JudgesFailureWindow: true } && rule.ShouldOpen();

    /// <summary>The caller cancelled: ignored, unless the call was already slow (then a slow failure: a caller that gives up must not hide a hung upstream).</summary>
    public void OnCallerCancelled(in CircuitPermit permit)
    {
        if (permit.StartTimestamp != 0 && _slowIsFailure && _time.GetTimestamp() - permit.StartTimestamp > _slowTicks)
        {
            if (IsFirstReport(permit))
            {
                OnFailureCore(permit, _counters.Current, new TimeoutException($"A call through circuit '{_name}' was still running after the slow-call threshold ({_options.SlowCallThreshold}) when its caller cancelled it."), hint: null, slow: true);
            }

            return;
        }

        OnIgnored(permit);
    }

    public void OnIgnored(in CircuitPermit permit)
    {
        if (!IsFirstReport(permit))
        {
            return;
        }

        CallCounters.Slot counters = _counters.Current;
        counters.Increment(ref counters.Ignored);
        if (permit.Kind == PermitKind.Probe)
        {
            // An ignored probe frees its slot and decides nothing, unless its time ran out first.
            ProbeSlots.Release release;
            long lease;
            lock (Sync)
            {
                release = ProbesLocked.ReleaseLocked(permit.ProbeId, _time.GetTimestamp(), out lease);
                if (release == ProbeSlots.Release.Released)
                {
                    ScheduleAttentionLocked(ProbeDeadline);
                }
            }

            AfterProbeReleased(permit.ProbeId, release, lease, Sharing.ProbeOutcome.Released);
        }
    }

    /// <summary>
    /// The one guard for "may this report count": never for a disabled permit; for a probe, only its first report.
    /// Probes are few, so the last ones reported are remembered; a closed-state permit can't be checked without a cost
    /// on the hot path, so report those exactly once.
    /// </summary>
    private bool IsFirstReport(in CircuitPermit permit)
    {
        switch (permit.Kind)
        {
            case PermitKind.Disabled:
                return false;

            case PermitKind.Probe:
                lock (Sync)
                {
                    return ProbesLocked.FirstReportLocked(permit.ProbeId);
                }

            default:
                return true;
        }
    }

    private bool IsSlow(in CircuitPermit permit, bool success, Exception? exception = null)
    {
        long elapsed = _time.GetTimestamp() - permit.StartTimestamp;
        bool slow = elapsed > _slowTicks;

        // A slow success that counts as a failure is recorded as what it counted as.
        if (!success)
        {
            TripswitchTelemetry.RecordDuration(this, elapsed, _time.TimestampFrequency, TripswitchTelemetry.OutcomeFailure, TripswitchTelemetry.ErrorType(exception));
        }
        else if (slow && _slowIsFailure)
        {
            TripswitchTelemetry.RecordDuration(this, elapsed, _time.TimestampFrequency, TripswitchTelemetry.OutcomeFailure, TripswitchTelemetry.ErrorTypeSlowCall);
        }
        else
        {
            TripswitchTelemetry.RecordDuration(this, elapsed, _time.TimestampFrequency, TripswitchTelemetry.OutcomeSuccess);
        }

        return slow;
    }

    /// <summary>Remembers a "retry after" hint: it extends the open period (now or when the circuit next opens), never shortens it.</summary>
    private void ApplyHint(int generation, TimeSpan hint, bool staleCall)
    {
        TimeSpan capped = _policy.CapHint(hint);
        lock (Sync)
        {
            long deadline = _time.GetTimestamp() + ToTimestampTicks(capped, _time.TimestampFrequency);
            var state = (CircuitState)(_stateWord & StateMask);
            if (state == CircuitState.Open && deadline > _openUntil)
            {
                _openUntil = deadline;
                ScheduleAttentionLocked(deadline);
            }
            else if (state == CircuitState.Closed && !staleCall && Generation == generation)
            {
                _hintDeadline = Math.Max(_hintDeadline, deadline);
            }
        }

        _coordinator?.OnRetryAfterHint(capped);
    }
}
