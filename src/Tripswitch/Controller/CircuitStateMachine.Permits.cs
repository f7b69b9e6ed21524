using System.Runtime.CompilerServices;

namespace Tripswitch.Controller;

/// <summary>The first half of the two-step primitive: granting permits, and rejecting callers (lock-free while nothing is due).</summary>
internal sealed partial class CircuitStateMachine
{
    // Every 64th lock-free rejection on a thread reads the clock, in case the timer that announces what is due is late.
    private const int ClockCheckInterval = 63;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryAcquire(out CircuitPermit permit, out CircuitRejection rejection)
    {
        long word = Volatile.Read(ref _stateWord);
        if ((word & LowByte) == (long)CircuitState.Closed)
        {
            permit = ClosedPermit(word);
            rejection = default;
            return true;
        }

        return TryAcquireSlow(word, out permit, out rejection);
    }

    /// <summary>The closed-state fast path of <see cref="TryAcquire"/> alone: false for every other state (nothing counted then).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryAcquireClosed(out CircuitPermit permit)
    {
        long word = Volatile.Read(ref _stateWord);
        if ((word & LowByte) == (long)CircuitState.Closed)
        {
            permit = ClosedPermit(word);
            return true;
        }

        permit = default;
        return false;
    }

    /// <summary>
    /// <see cref="TryAcquire"/> for callers that throw on rejection (the <c>Execute</c> overloads): no rejection to
    /// carry on the hot path, the permit returned by value.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public CircuitPermit AcquireOrThrow()
    {
        long word = Volatile.Read(ref _stateWord);
        if ((word & LowByte) == (long)CircuitState.Closed)
        {
            return ClosedPermit(word);
        }

        return AcquireOrThrowSlow(word);
    }

    /// <summary>The closed-state permit both acquire paths hand out: one start counted in this thread's slot.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private CircuitPermit ClosedPermit(long word)
    {
        CallCounters.Slot slot = _counters.Current;
        slot.Increment(ref slot.Started);
        return new CircuitPermit(slot, (int)(word >> GenerationShift), PermitKind.Closed, probeId: 0, StartTimestamp(slot));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private CircuitPermit AcquireOrThrowSlow(long word)
    {
        if (!TryAcquireSlow(word, out CircuitPermit permit, out CircuitRejection rejection))
        {
            throw rejection.ToException();
        }

        return permit;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private long StartTimestamp(CallCounters.Slot slot)
    {
        if (_timeCalls)
        {
            return _time.GetTimestamp();
        }

        // With a listener on the duration histogram, time one call in N per thread: timing every call would cost two
        // clock reads, many times the rest of the hot path.
        if (Telemetry.CallDuration.Enabled && --slot.DurationSampleCountdown < 0)
        {
            slot.DurationSampleCountdown = CircuitBreakerDefaults.DurationSampleInterval - 1;
            return _time.GetTimestamp();
        }

        return 0;
    }

    /// <summary>The time left until <paramref name="timestamp"/>, never negative.</summary>
    internal TimeSpan TimeUntil(long timestamp)
    {
        long now = _time.GetTimestamp();
        return now < timestamp ? _time.GetElapsedTime(now, timestamp) : TimeSpan.Zero;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool TryAcquireSlow(long word, out CircuitPermit permit, out CircuitRejection rejection)
    {
        CallCounters.Slot slot = _counters.Current;
        if ((word & DisabledFlag) != 0)
        {
            permit = new CircuitPermit(slot, 0, PermitKind.Disabled, probeId: 0, startTimestamp: 0);
            rejection = default;
            return true;
        }

        bool shadow = _options.Mode == CircuitBreakerMode.MetricsOnly;

        // Lock-free, clock-free rejection while nothing time-based is due: the common case of an open circuit.
        if (!shadow && CanRejectWithoutLock(word, slot))
        {
            var state = (CircuitState)(word & StateMask);
            return Reject(slot, new CircuitRejection(this, state, state == CircuitState.Open ? Volatile.Read(ref _openUntil) : 0), out permit, out rejection);
        }

        while (true)
        {
            bool granted;
            int generation;
            long probeId, expiredProbe;
            lock (Sync)
            {
                granted = TryGrantLocked(out generation, out probeId, out expiredProbe, out rejection);
            }

            Dispatch();
            if (expiredProbe != 0)
            {
                // A hung probe's time is up: it counts as failed (outside the lock: the break-duration generator is user
                // code), then this caller tries again against the reopened circuit.
                FailProbe(expiredProbe, ProbeTimedOut(), hint: null);
                continue;
            }

            if (granted || shadow)
            {
                // Shadow mode: a call that would have been rejected runs, and only the metrics see it.
                if (!granted)
                {
                    slot.Increment(ref slot.ShadowRejected);
                }

                slot.Increment(ref slot.Started);
                PermitKind kind = !granted ? PermitKind.Shadow : probeId != 0 ? PermitKind.Probe : PermitKind.Closed;
                permit = new CircuitPermit(slot, generation, kind, probeId, StartTimestamp(slot));
                rejection = default;
                return true;
            }

            return Reject(slot, rejection, out permit, out rejection);
        }
    }

    /// <summary>
    /// Under the lock: performs what time decided (reporting a timed-out probe for the caller to fail, when there is
    /// one), then grants the caller a closed-state call or a probe slot, or says why it is rejected.
    /// </summary>
    private bool TryGrantLocked(out int generation, out long probeId, out long expiredProbe, out CircuitRejection rejection)
    {
        long now = _time.GetTimestamp();
        CircuitState state = AdvanceLocked(now, out expiredProbe);
        generation = Generation;
        probeId = 0;
        rejection = default;
        if (expiredProbe != 0)
        {
            return false;
        }

        switch (state)
        {
            case CircuitState.Closed:
                return true;

            case CircuitState.HalfOpen when ProbesInFlight < _options.HalfOpenMaxCalls && TryTakeLeaseLocked(out long lease):
                probeId = ProbesLocked.TakeLocked(now, lease);
                ScheduleAttentionLocked(ProbeDeadline);
                return true;

            default:
                // Open, Isolated, or HalfOpen with every probe slot (or every fleet lease) taken.
                rejection = new CircuitRejection(this, state, state == CircuitState.Open ? _openUntil : 0);
                return false;
        }
    }

    private bool TryTakeLeaseLocked(out long lease)
    {
        if (_coordinator is null)
        {
            lease = 0;
            return true;
        }

        return _coordinator.TryTakeProbeLease(out lease);
    }

    /// <summary>
    /// Whether the call can be rejected from the state word alone: the circuit is open, isolated, or half-open with every
    /// probe slot taken, and no timer has announced that its open period ended or a probe timed out. As a safety net
    /// against a late timer (a starved thread pool), every 64th rejection on a thread also reads the clock.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool CanRejectWithoutLock(long word, CallCounters.Slot slot)
    {
        var state = (CircuitState)(word & StateMask);
        bool full = state switch
        {
            CircuitState.Open or CircuitState.Isolated => true,
            CircuitState.HalfOpen => ProbesInFlight >= _options.HalfOpenMaxCalls,
            _ => false,
        };
        if (!full || Volatile.Read(ref _attentionGeneration) == (int)(word >> GenerationShift))
        {
            return false;
        }

        if (state != CircuitState.Isolated && --slot.ClockCheckCountdown < 0)
        {
            slot.ClockCheckCountdown = ClockCheckInterval;
            long due = state == CircuitState.Open ? Volatile.Read(ref _openUntil) : ProbeDeadline;
            if (_time.GetTimestamp() >= due)
            {
                return false;
            }
        }

        return true;
    }

    private bool Reject(CallCounters.Slot slot, CircuitRejection reason, out CircuitPermit permit, out CircuitRejection rejection)
    {
        slot.Increment(ref slot.Rejected);
        TripswitchTelemetry.OnRejected(this, reason);
        _owner.OnRejected(reason); // outside any lock
        permit = default;
        rejection = reason;
        return false;
    }

    /// <summary>Has the timer announce <paramref name="dueTimestamp"/> (long.MaxValue: nothing to announce).</summary>
    private void ScheduleAttentionLocked(long dueTimestamp)
    {
        if (dueTimestamp == long.MaxValue)
        {
            _attentionTimer?.Cancel();
            return;
        }

        long now = _time.GetTimestamp();
        if (now >= dueTimestamp)
        {
            // Already due: no timer needed (and none that could fire inside this lock).
            Volatile.Write(ref _attentionGeneration, Generation);
            return;
        }

        _attentionTimer ??= new WeakTimer<CircuitStateMachine>(_time, this, static m => m.OnAttentionTimer(), Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _attentionTimer.Schedule(_time.GetElapsedTime(now, dueTimestamp));
    }

    /// <summary>The timer's callback: announces what is due for the current generation, or waits again for a later deadline.</summary>
    private void OnAttentionTimer()
    {
        lock (Sync)
        {
            long due = (CircuitState)(_stateWord & StateMask) switch
            {
                CircuitState.Open => _openUntil,
                CircuitState.HalfOpen => ProbeDeadline,
                _ => long.MaxValue,
            };
            if (due == long.MaxValue)
            {
                return;
            }

            if (_time.GetTimestamp() >= due)
            {
                Volatile.Write(ref _attentionGeneration, Generation);
            }
            else
            {
                ScheduleAttentionLocked(due);
            }
        }
    }
}
