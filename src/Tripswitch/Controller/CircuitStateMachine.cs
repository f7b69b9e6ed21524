using System.Diagnostics;
using System.Runtime.CompilerServices;
using Tripswitch.Health;
using Tripswitch.Sharing;

namespace Tripswitch.Controller;

/// <summary>
/// The one place that decides state transitions. Every call path (sync, async, HTTP, chat) reaches it through
/// <see cref="CircuitPermit"/>: acquire a permit, then report its outcome.
/// </summary>
/// <remarks>
/// <para>
/// The closed hot path takes no lock and no interlocked instruction: acquiring a permit is one volatile read of
/// <see cref="_stateWord"/> plus a plain increment of the calling thread's own counter slot, and a success is another
/// such increment plus a read of <see cref="_failureWord"/>. Everything else (tripping, half-open probes, manual
/// control) runs under <see cref="_sync"/>, which is never held while user code runs (callbacks, generators and
/// extractors run before the lock is taken or after it is released).
/// </para>
/// <para>
/// Every permit carries the generation of the state it was granted in. A transition increments the generation, so an
/// outcome that arrives after the circuit moved on is counted in the metrics but never moves the newer state.
/// </para>
/// </remarks>
internal sealed class CircuitStateMachine
{
    internal const long DisabledPermit = -1;
    internal const long ShadowPermit = -2;

    private const long StateMask = 0x7F;
    private const long DisabledFlag = 0x80;
    private const long LowByte = 0xFF;
    private const int GenerationShift = 8;
    private const long CountMask = 0xFFFF_FFFF;

    private readonly Lock _sync = new();
    private readonly TimeProvider _time;
    private readonly Action<CircuitTransition> _notify;
    private readonly CallCounters _counters = new();

    // The options and what is derived from them. Replaced together under _sync by Reconfigure; lock-free readers may
    // see the old or the new value of each, which is harmless (each is read once per decision).
    private CircuitBreakerOptions _options;
    private WindowRule? _windowRule;
    private bool _timeCalls;
    private bool _slowIsFailure;
    private long _slowTicks;
    private long _probeTimeoutTicks;
    private TimeSpan _maxBreak;

    // (generation << 8) | disabled flag | state. Written only under _sync, read lock-free.
    private long _stateWord;

    // ((uint)generation << 32) | consecutive handled failures. The generation tag makes stale outcomes miss.
    private long _failureWord;

    // Timestamp (TimeProvider.GetTimestamp units) at which the open period ends. Written under _sync before the
    // state word publishes Open, so a lock-free reader that sees Open also sees its deadline (or a later one).
    private long _openUntil;

    // Everything below is only touched under _sync.
    private long[] _probeIds;
    private long[] _probeStarts;
    private long[] _probeLeases;
    private CircuitCoordinator? _coordinator;
    private int _probesInFlight; // written under _sync, read lock-free to reject while every probe slot is taken
    private long _earliestProbeDeadline = long.MaxValue; // written under _sync, read lock-free
    private int _halfOpenSuccesses;
    private long _lastProbeId;
    private long[]? _reportedProbes;
    private int _reportedNext;
    private int _openAttempt;
    private long _hintDeadline;

    // The generation of the last transition this circuit decided itself (not applied from its fleet): remote state read
    // before it is older than what the circuit knows (see ApplyRemote).
    private long _localVersion;

    private CircuitTransition[]? _log; // allocated at the first transition: most circuits of a registry never have one
    private int _logNext;
    private int _logCount;
    private long _transitionCount;
    private readonly Queue<CircuitTransition> _pending = new();
    private int _pendingCount;
    private int _dispatching;

    // Time-based work (an open period ending, a probe timing out) is announced by a timer of the TimeProvider, so
    // rejections can skip the clock: while _attentionGeneration differs from the current generation, nothing is due.
    private int _attentionGeneration = -1;
    private AttentionTimer? _attentionTimer;
    private Action<CircuitRejection>? _rejected;

    public CircuitStateMachine(CircuitBreakerOptions options, Action<CircuitTransition> notify)
    {
        _options = options;
        _time = options.TimeProvider;
        _notify = notify;
        Telemetry = TripswitchInstruments.For(options.MeterFactory);
        _probeIds = new long[options.HalfOpenMaxCalls];
        _probeStarts = new long[options.HalfOpenMaxCalls];
        _probeLeases = new long[options.HalfOpenMaxCalls];
        ApplyOptions(options);
        _windowRule = WindowRule.Create(options, _counters);
        if (options.Mode == CircuitBreakerMode.Disabled)
        {
            _stateWord = DisabledFlag;
        }

        TripswitchTelemetry.Register(this);
    }

    /// <summary>The instruments this circuit reports to (its options' meter factory's, or the process-wide ones).</summary>
    internal TripswitchInstruments Telemetry { get; }

    private void ApplyOptions(CircuitBreakerOptions options)
    {
        _probeTimeoutTicks = ToTimestampTicks(options.HalfOpenProbeTimeout, _time.TimestampFrequency);
        _maxBreak = options.EffectiveMaxRecoveryTimeout;
        _slowIsFailure = options.SlowCallRatio is null;
        _slowTicks = options.SlowCallThreshold is { } slow ? ToTimestampTicks(slow, _time.TimestampFrequency) : long.MaxValue;
        _timeCalls = options.SlowCallThreshold is not null;
        _options = options;
    }

    /// <summary>
    /// Applies new options (validated, same name and time provider) without losing the state, the counts or the
    /// transition log. The failure window starts empty only when its shape (rule, size, duration, ratios) changed.
    /// </summary>
    public void Reconfigure(CircuitBreakerOptions options)
    {
        Debug.Assert(options.Name == _options.Name, "A circuit keeps its name.");
        if (!ReferenceEquals(options.TimeProvider, _time))
        {
            throw new ArgumentException($"Circuit '{_options.Name}': the TimeProvider of a circuit cannot change while it runs.", nameof(options));
        }

        CircuitBreakerOptions old = _options;
        bool newWindow = !WindowRule.HasSameShape(old, options); // new thresholds alone keep the window's contents
        WindowRule? oldRule = null;
        lock (_sync)
        {
            if (newWindow)
            {
                oldRule = _windowRule;
                _windowRule = WindowRule.Create(options, _counters);
            }
            else
            {
                _windowRule?.ApplyThresholds(options);
            }

            if (options.HalfOpenMaxCalls != _probeIds.Length)
            {
                // Keep the probes in flight; new ones are granted while fewer than HalfOpenMaxCalls run.
                int length = Math.Max(options.HalfOpenMaxCalls, _probesInFlight);
                long[] ids = new long[length];
                long[] starts = new long[length];
                long[] leases = new long[length];
                int j = 0;
                for (int i = 0; i < _probeIds.Length; i++)
                {
                    if (_probeIds[i] != 0)
                    {
                        ids[j] = _probeIds[i];
                        leases[j] = _probeLeases[i];
                        starts[j++] = _probeStarts[i];
                    }
                }

                _probeIds = ids;
                _probeStarts = starts;
                _probeLeases = leases;
            }

            ApplyOptions(options);
            long word = _stateWord;
            word = options.Mode == CircuitBreakerMode.Disabled ? word | DisabledFlag : word & ~DisabledFlag;
            Volatile.Write(ref _stateWord, word);
        }

        oldRule?.Stop();
    }

    public CircuitBreakerOptions Options => _options;

    public string Name => _options.Name;

    /// <summary>The generation: increases with every transition and every reset (what a coordinator compares remote state against).</summary>
    public long Version => Volatile.Read(ref _stateWord) >> GenerationShift;

    /// <summary>The state as stored, without performing a due transition.</summary>
    public CircuitState RawState => (CircuitState)(Volatile.Read(ref _stateWord) & StateMask);

    public CounterSnapshot Counts => _counters.Read();

    /// <summary>The current state; performs a due Open → HalfOpen transition and frees timed-out probes.</summary>
    public CircuitState State
    {
        get
        {
            long word = Volatile.Read(ref _stateWord);
            var state = (CircuitState)(word & StateMask);
            if (state is CircuitState.Open or CircuitState.HalfOpen)
            {
                state = Advance();
            }

            return state;
        }
    }

    /// <summary>Performs what time alone decides (the end of an open period, a probe's timeout) and returns the state.</summary>
    private CircuitState Advance()
    {
        long expiredProbe;
        CircuitState state;
        lock (_sync)
        {
            state = AdvanceLocked(_time.GetTimestamp(), out expiredProbe);
        }

        DispatchNotifications();
        if (expiredProbe != 0)
        {
            FailProbe(expiredProbe, ProbeTimedOut(), hint: null);
            state = RawState;
        }

        return state;
    }

    private CircuitState AdvanceLocked(long now, out long expiredProbe)
    {
        expiredProbe = 0;
        var state = (CircuitState)(_stateWord & StateMask);
        if (state == CircuitState.Open && now >= _openUntil)
        {
            TransitionLocked(CircuitState.HalfOpen, cause: null);
            state = CircuitState.HalfOpen;
        }
        else if (state == CircuitState.HalfOpen)
        {
            for (int i = 0; i < _probeIds.Length; i++)
            {
                if (_probeIds[i] != 0 && now - _probeStarts[i] >= _probeTimeoutTicks)
                {
                    expiredProbe = _probeIds[i];
                    break;
                }
            }
        }

        return state;
    }

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
        return new CircuitPermit(this, (int)(word >> GenerationShift), probeId: 0, StartTimestamp(slot), slot);
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

    /// <summary>Called (outside any lock) for every rejected call; used by logging integrations.</summary>
    internal event Action<CircuitRejection>? Rejected
    {
        add => _rejected += value;
        remove => _rejected -= value;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool TryAcquireSlow(long word, out CircuitPermit permit, out CircuitRejection rejection)
    {
        CallCounters.Slot slot = _counters.Current;
        if ((word & DisabledFlag) != 0)
        {
            permit = new CircuitPermit(this, 0, DisabledPermit, 0, null);
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
            long probeId = 0;
            long expiredProbe;
            bool granted = true;
            int generation;
            rejection = default;
            lock (_sync)
            {
                long now = _time.GetTimestamp();
                CircuitState state = AdvanceLocked(now, out expiredProbe);
                word = _stateWord;
                generation = (int)(word >> GenerationShift);
                if (expiredProbe == 0)
                {
                    switch (state)
                    {
                        case CircuitState.Closed:
                            break;

                        case CircuitState.HalfOpen when _probesInFlight < _options.HalfOpenMaxCalls && TryTakeLeaseLocked(out long lease):
                            probeId = ++_lastProbeId;
                            int free = Array.IndexOf(_probeIds, 0L);
                            _probeIds[free] = probeId;
                            _probeStarts[free] = now;
                            _probeLeases[free] = lease;
                            Volatile.Write(ref _probesInFlight, _probesInFlight + 1);
                            ProbesChangedLocked();
                            break;

                        case CircuitState.HalfOpen:
                            granted = false;
                            rejection = new CircuitRejection(this, CircuitState.HalfOpen, 0);
                            break;

                        case CircuitState.Open:
                            granted = false;
                            rejection = new CircuitRejection(this, CircuitState.Open, _openUntil);
                            break;

                        default:
                            Debug.Assert(state == CircuitState.Isolated, "Every state is handled.");
                            granted = false;
                            rejection = new CircuitRejection(this, CircuitState.Isolated, 0);
                            break;
                    }
                }
            }

            DispatchNotifications();
            if (expiredProbe != 0)
            {
                // A hung probe's time is up: it counts as failed (outside the lock: the break-duration generator is user
                // code), then this caller tries again against the reopened circuit.
                FailProbe(expiredProbe, ProbeTimedOut(), hint: null);
                continue;
            }

            if (granted)
            {
                slot.Increment(ref slot.Started);
                permit = new CircuitPermit(this, generation, probeId, StartTimestamp(slot), slot);
                return true;
            }

            if (shadow)
            {
                // Shadow mode: the call would have been rejected; it runs, and only the metrics see it.
                slot.Increment(ref slot.ShadowRejected);
                slot.Increment(ref slot.Started);
                permit = new CircuitPermit(this, generation, ShadowPermit, StartTimestamp(slot), slot);
                rejection = default;
                return true;
            }

            return Reject(slot, rejection, out permit, out rejection);
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
            CircuitState.HalfOpen => Volatile.Read(ref _probesInFlight) >= _options.HalfOpenMaxCalls,
            _ => false,
        };
        if (!full || Volatile.Read(ref _attentionGeneration) == (int)(word >> GenerationShift))
        {
            return false;
        }

        if (state != CircuitState.Isolated && --slot.ClockCheckCountdown < 0)
        {
            slot.ClockCheckCountdown = ClockCheckInterval;
            long due = state == CircuitState.Open ? Volatile.Read(ref _openUntil) : Volatile.Read(ref _earliestProbeDeadline);
            if (_time.GetTimestamp() >= due)
            {
                return false;
            }
        }

        return true;
    }

    private const int ClockCheckInterval = 63;

    private bool Reject(CallCounters.Slot slot, CircuitRejection reason, out CircuitPermit permit, out CircuitRejection rejection)
    {
        slot.Increment(ref slot.Rejected);
        TripswitchTelemetry.OnRejected(this, reason);
        _rejected?.Invoke(reason);
        permit = default;
        rejection = reason;
        return false;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void OnSuccess(in CircuitPermit permit)
    {
        // The hot path: a closed-state call, not timed, consecutive rule. One plain increment of this thread's slot and
        // one read of the failure word (a write only when there is a count to reset).
        if ((permit.ProbeId | permit.StartTimestamp) == 0 && _windowRule is null)
        {
            CallCounters.Slot slot = _counters.Current;
            slot.Increment(ref slot.Successful);
            ResetConsecutive(permit.Generation);
            return;
        }

        OnSuccessSlow(permit);
    }

    /// <summary>
    /// <see cref="OnSuccess"/> for a permit reported on the thread that acquired it, with nothing between (the sync
    /// <c>Execute</c> overloads): the permit's own counter slot is this thread's, so no lookup is needed.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void OnSuccessOnAcquiringThread(in CircuitPermit permit)
    {
        if ((permit.ProbeId | permit.StartTimestamp) == 0 && _windowRule is null && permit.Slot is { } slot)
        {
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
        if (permit.ProbeId == DisabledPermit || (permit.ProbeId > 0 && !FirstReport(permit.ProbeId)))
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

        if (permit.ProbeId != 0)
        {
            if (permit.ProbeId > 0)
            {
                ProbeSucceeded(permit.ProbeId);
            }

            return;
        }

        // A success resets the consecutive count of its own generation; writing only when there is something to
        // reset keeps the cache line shared between cores while all is well.
        long fw = Volatile.Read(ref _failureWord);
        if ((int)(fw >>> 32) != permit.Generation)
        {
            return; // the circuit moved on since this call started
        }

        ResetConsecutive(permit.Generation);
        if (_windowRule is not null)
        {
            _windowRule.Record(slot, failure: false, slow);
            if (slow && _windowRule.ShouldOpen())
            {
                TryTrip(permit.Generation, cause: null, hint: null);
            }
        }
    }

    public void OnFailure(in CircuitPermit permit, Exception? exception, TimeSpan? hint)
    {
        if (permit.ProbeId == DisabledPermit || (permit.ProbeId > 0 && !FirstReport(permit.ProbeId)))
        {
            return;
        }

        CallCounters.Slot slot = _counters.Current;
        bool slow = permit.StartTimestamp != 0 && IsSlow(permit, success: false, exception);
        OnFailureCore(permit, slot, exception, hint, slow);
    }

    private void OnFailureCore(in CircuitPermit permit, CallCounters.Slot slot, Exception? exception, TimeSpan? hint, bool slow)
    {
        slot.Increment(ref slot.Failed);
        if (slow)
        {
            slot.Increment(ref slot.Slow);
        }

        if (permit.ProbeId == ShadowPermit)
        {
            return;
        }

        hint ??= ExtractHint(exception);
        if (permit.ProbeId > 0)
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
                bool open;
                if (_windowRule is null)
                {
                    open = (next & CountMask) >= (uint)_options.FailureThreshold;
                }
                else
                {
                    _windowRule.Record(slot, failure: true, slow);
                    open = _windowRule.ShouldOpen();
                }

                if (open)
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

    /// <summary>The caller cancelled: ignored, unless the call was already slow (then a slow failure). Returns whether it counted as a failure.</summary>
    public bool OnCallerCancelled(in CircuitPermit permit)
    {
        if (permit.StartTimestamp != 0 && _slowIsFailure && permit.ProbeId != DisabledPermit
            && _time.GetTimestamp() - permit.StartTimestamp > _slowTicks
            && (permit.ProbeId <= 0 || FirstReport(permit.ProbeId)))
        {
            OnFailureCore(permit, _counters.Current, new TimeoutException($"A call through circuit '{_options.Name}' was still running after the slow-call threshold ({_options.SlowCallThreshold}) when its caller cancelled it."), hint: null, slow: true);
            return true;
        }

        OnIgnored(permit);
        return false;
    }

    public void OnIgnored(in CircuitPermit permit)
    {
        if (permit.ProbeId == DisabledPermit || (permit.ProbeId > 0 && !FirstReport(permit.ProbeId)))
        {
            return;
        }

        CallCounters.Slot counters = _counters.Current;
        counters.Increment(ref counters.Ignored);
        if (permit.ProbeId > 0)
        {
            long lease = 0;
            bool timedOut = false;
            lock (_sync)
            {
                // Ignored probes free their slot and decide nothing — unless their time ran out first.
                int slot = Array.IndexOf(_probeIds, permit.ProbeId);
                if (slot >= 0 && _time.GetTimestamp() - _probeStarts[slot] >= _probeTimeoutTicks)
                {
                    timedOut = true;
                }
                else if (slot >= 0)
                {
                    lease = _probeLeases[slot];
                    _probeIds[slot] = 0;
                    Volatile.Write(ref _probesInFlight, _probesInFlight - 1);
                    ProbesChangedLocked();
                }
            }

            if (timedOut)
            {
                FailProbe(permit.ProbeId, ProbeTimedOut(), hint: null);
            }
            else if (lease != 0)
            {
                _coordinator?.OnProbeCompleted(lease, ProbeOutcome.Released, TimeSpan.Zero);
            }
        }
    }

    /// <summary>
    /// Whether this is the first report of a probe permit. Probes are few, so the last ones reported are remembered and a
    /// probe permit reported twice changes neither the state nor the counts (a closed-state permit can't be checked
    /// without a cost on the hot path: report those exactly once).
    /// </summary>
    private bool FirstReport(long probeId)
    {
        lock (_sync)
        {
            _reportedProbes ??= new long[CircuitBreakerDefaults.MaxHalfOpenMaxCalls < 64 ? CircuitBreakerDefaults.MaxHalfOpenMaxCalls : 64];
            if (Array.IndexOf(_reportedProbes, probeId) >= 0)
            {
                return false;
            }

            _reportedProbes[_reportedNext] = probeId;
            _reportedNext = (_reportedNext + 1) % _reportedProbes.Length;
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

    private TimeSpan? ExtractHint(Exception? exception)
    {
        if (exception is null)
        {
            return null;
        }

        if (exception is IRetryAfterHint { RetryAfter: { } hinted })
        {
            return hinted;
        }

        try
        {
            return _options.RetryAfterExtractor?.Invoke(exception);
        }
#pragma warning disable CA1031 // A throwing extractor must not lose the failure (or a probe slot): the hint is just absent.
        catch (Exception)
#pragma warning restore CA1031
        {
            return null;
        }
    }

    /// <summary>Remembers a "retry after" hint: it extends the open period (now or when the circuit next opens), never shortens it.</summary>
    private void ApplyHint(int generation, TimeSpan hint, bool staleCall)
    {
        lock (_sync)
        {
            long deadline = HintDeadline(hint);
            long word = _stateWord;
            var state = (CircuitState)(word & StateMask);
            if (state == CircuitState.Open && deadline > _openUntil)
            {
                _openUntil = deadline;
                ScheduleAttentionLocked(deadline);
            }
            else if (state == CircuitState.Closed && !staleCall && (int)(word >> GenerationShift) == generation)
            {
                _hintDeadline = Math.Max(_hintDeadline, deadline);
            }
        }

        _coordinator?.OnRetryAfterHint(CapHint(hint));
    }

    private long HintDeadline(TimeSpan hint) => _time.GetTimestamp() + ToTimestampTicks(CapHint(hint), _time.TimestampFrequency);

    private TimeSpan CapHint(TimeSpan hint) => hint <= TimeSpan.Zero ? TimeSpan.Zero : hint > _maxBreak ? _maxBreak : hint;

    private void TryTrip(int generation, Exception? cause, TimeSpan? hint)
    {
        long breakTicks = ComputeBreakTicks(openAttempt: 1, cause);
        TimeSpan openFor;
        long version;
        lock (_sync)
        {
            long word = _stateWord;
            if ((int)(word >> GenerationShift) != generation || (CircuitState)(word & StateMask) != CircuitState.Closed)
            {
                return; // another failure tripped it first, or it was reset/isolated
            }

            _openAttempt = 1;
            OpenLocked(cause, breakTicks, hint);
            openFor = TimeUntilLocked(_openUntil);
            version = _localVersion;
        }

        DispatchNotifications();
        _coordinator?.OnLocalTrip(openFor, hint, version);
    }

    private TimeSpan TimeUntilLocked(long timestamp)
    {
        long now = _time.GetTimestamp();
        return now < timestamp ? _time.GetElapsedTime(now, timestamp) : TimeSpan.Zero;
    }

    private void ProbeSucceeded(long probeId)
    {
        long lease;
        lock (_sync)
        {
            // Probe ids are unique and every transition frees all slots, so a probe from an earlier half-open period,
            // a timed-out probe or a permit reported twice finds no slot and changes nothing.
            int slot = Array.IndexOf(_probeIds, probeId);
            if (slot < 0)
            {
                return;
            }

            if (_time.GetTimestamp() - _probeStarts[slot] >= _probeTimeoutTicks)
            {
                lease = -1; // its time ran out before it answered (nobody had looked yet): it failed
            }
            else
            {
                lease = _probeLeases[slot];
                _probeIds[slot] = 0;
                Volatile.Write(ref _probesInFlight, _probesInFlight - 1);
                ProbesChangedLocked();
                Volatile.Write(ref _failureWord, _failureWord & ~CountMask); // a success ends the run of failures
                if (++_halfOpenSuccesses >= _options.SuccessThreshold)
                {
                    TransitionLocked(CircuitState.Closed, cause: null);
                }
            }
        }

        if (lease == -1)
        {
            FailProbe(probeId, ProbeTimedOut(), hint: null);
            return;
        }

        DispatchNotifications();
        if (lease != 0)
        {
            _coordinator?.OnProbeCompleted(lease, ProbeOutcome.Succeeded, TimeSpan.Zero);
        }
    }

    private void FailProbe(long probeId, Exception? cause, TimeSpan? hint)
    {
        int attempt;
        lock (_sync)
        {
            if (Array.IndexOf(_probeIds, probeId) < 0)
            {
                return; // stale, timed out already, or reported twice: no opening, so no generator call
            }

            attempt = _openAttempt + 1;
        }

        // The generator is user code: compute the period outside the lock, then check the probe still holds its slot.
        long breakTicks = ComputeBreakTicks(attempt, cause);
        long lease;
        TimeSpan reopenFor;
        lock (_sync)
        {
            int slot = Array.IndexOf(_probeIds, probeId);
            if (slot < 0)
            {
                return;
            }

            lease = _probeLeases[slot];
            _failureWord++; // a failed probe is one more failure in a row
            _openAttempt++;
            OpenLocked(cause, breakTicks, hint);
            reopenFor = TimeUntilLocked(_openUntil);
        }

        DispatchNotifications();
        if (lease != 0)
        {
            _coordinator?.OnProbeCompleted(lease, ProbeOutcome.Failed, reopenFor);
        }
    }

    private void OpenLocked(Exception? cause, long breakTicks, TimeSpan? hint)
    {
        long now = _time.GetTimestamp();
        long until = now + breakTicks;
        until = Math.Max(until, _hintDeadline);
        if (hint is { } h)
        {
            until = Math.Max(until, HintDeadline(h));
        }

        _openUntil = until;
        TransitionLocked(CircuitState.Open, cause);
    }

    /// <summary>The open period a coordinator's fleet applies: the policy's period for the attempt, at least the (capped) hint.</summary>
    public TimeSpan ComputeOpenPeriod(int openAttempt, Exception? cause, TimeSpan? hint)
    {
        TimeSpan period = ComputeBreakDuration(openAttempt, cause);
        return hint is { } h && CapHint(h) > period ? CapHint(h) : period;
    }

    private long ComputeBreakTicks(int openAttempt, Exception? cause)
        => ToTimestampTicks(ComputeBreakDuration(openAttempt, cause), _time.TimestampFrequency);

    /// <summary>The open period for the given attempt: recovery timeout with backoff and jitter, or the user's generator; capped.</summary>
    private TimeSpan ComputeBreakDuration(int openAttempt, Exception? cause)
    {
        double ticks = _options.RecoveryTimeout.Ticks * Math.Pow(_options.RecoveryBackoffMultiplier, Math.Max(0, openAttempt - 1));
        ticks = Math.Min(ticks, _maxBreak.Ticks);
        if (_options.RecoveryJitter > 0)
        {
            ticks *= 1 + (_options.RecoveryJitter * ((2 * Random.Shared.NextDouble()) - 1));
        }

        TimeSpan duration = Clamp(TimeSpan.FromTicks((long)ticks));
        if (_options.BreakDurationGenerator is { } generator)
        {
            try
            {
                duration = Clamp(generator(new BreakDurationArguments(_options.Name, openAttempt, duration, cause)));
            }
#pragma warning disable CA1031 // A throwing generator must not lose the caller's outcome; the computed period stands.
            catch (Exception)
#pragma warning restore CA1031
            {
            }
        }

        return duration;

        TimeSpan Clamp(TimeSpan value)
            => value < CircuitBreakerDefaults.MinRecoveryTimeout ? CircuitBreakerDefaults.MinRecoveryTimeout : value > _maxBreak ? _maxBreak : value;
    }

    private TimeoutException ProbeTimedOut()
        => new($"The half-open probe of circuit '{_options.Name}' did not report within {_options.HalfOpenProbeTimeout}; it counts as failed.");

    public void Isolate()
    {
        if ((Volatile.Read(ref _stateWord) & DisabledFlag) != 0)
        {
            return; // a disabled circuit lets everything pass and records nothing, an operator's isolation included
        }

        long version;
        lock (_sync)
        {
            if ((CircuitState)(_stateWord & StateMask) != CircuitState.Isolated)
            {
                TransitionLocked(CircuitState.Isolated, cause: null);
            }

            version = _localVersion = _stateWord >> GenerationShift; // an operator's decision, even when nothing changed
        }

        DispatchNotifications();
        _coordinator?.OnManualChange(CircuitState.Isolated, version);
    }

    public void Reset()
    {
        long version;
        lock (_sync)
        {
            if ((CircuitState)(_stateWord & StateMask) != CircuitState.Closed)
            {
                TransitionLocked(CircuitState.Closed, cause: null);
            }
            else
            {
                // Already closed: no transition, but a new generation all the same, so an outcome of a call that
                // started before the reset can't count after it.
                long word = _stateWord;
                long generation = (word >> GenerationShift) + 1;
                Volatile.Write(ref _failureWord, (long)(uint)generation << 32);
                Volatile.Write(ref _stateWord, (generation << GenerationShift) | (word & (DisabledFlag | StateMask)));
                _windowRule?.Reset();
                _hintDeadline = 0;
                _localVersion = generation;
            }

            version = _localVersion;
        }

        DispatchNotifications();
        _coordinator?.OnManualChange(CircuitState.Closed, version);
    }

    /// <summary>Plugs shared state in (one coordinator per circuit, before or while it runs); returns the one it replaces.</summary>
    public CircuitCoordinator? Attach(CircuitCoordinator? coordinator) => Interlocked.Exchange(ref _coordinator, coordinator);

    public CircuitCoordinator? Coordinator => Volatile.Read(ref _coordinator);

    /// <summary>The consecutive-failure count of the current state (what a coordinator reports to its fleet).</summary>
    public int ConsecutiveFailures => (int)(Volatile.Read(ref _failureWord) & CountMask);

    /// <summary>
    /// Makes the local state follow the fleet's: <paramref name="state"/>, with <paramref name="openFor"/> left of an
    /// open period, unless the circuit decided a transition itself after <paramref name="basedOnVersion"/> (then the
    /// remote state is older than what it knows and is dropped). A transition (new generation, log entry, notification)
    /// happens only when the state differs; an open deadline is moved to the fleet's. Never calls the coordinator back.
    /// </summary>
    public bool ApplyRemote(CircuitState state, TimeSpan openFor, long basedOnVersion)
    {
        lock (_sync)
        {
            if (basedOnVersion < _localVersion)
            {
                return false; // read before a local decision: applying it would undo that decision
            }

            var current = (CircuitState)(_stateWord & StateMask);
            if (state == CircuitState.Open)
            {
                _openUntil = _time.GetTimestamp() + ToTimestampTicks(openFor < TimeSpan.Zero ? TimeSpan.Zero : openFor, _time.TimestampFrequency);
                if (current == CircuitState.Open)
                {
                    ScheduleAttentionLocked(_openUntil);
                }
            }

            if (current != state)
            {
                if (state == CircuitState.Open && current == CircuitState.Closed)
                {
                    _openAttempt = 1;
                }

                TransitionLocked(state, cause: null, remote: true);
            }
        }

        DispatchNotifications();
        return true;
    }

    /// <summary>Stops background work and telemetry for a breaker that is being dropped (a registry evicted it).</summary>
    public void Detach()
    {
        _windowRule?.Stop();
        _attentionTimer?.Dispose();
        TripswitchTelemetry.Unregister(this);
    }

    /// <summary>Recomputes the earliest probe deadline after probes came or went, and has the timer announce it.</summary>
    private void ProbesChangedLocked()
    {
        long earliest = long.MaxValue;
        for (int i = 0; i < _probeIds.Length; i++)
        {
            if (_probeIds[i] != 0)
            {
                earliest = Math.Min(earliest, _probeStarts[i] + _probeTimeoutTicks);
            }
        }

        Volatile.Write(ref _earliestProbeDeadline, earliest);
        ScheduleAttentionLocked(earliest);
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
            Volatile.Write(ref _attentionGeneration, (int)(_stateWord >> GenerationShift));
            return;
        }

        _attentionTimer ??= new AttentionTimer(this, _time);
        _attentionTimer.Schedule(_time.GetElapsedTime(now, dueTimestamp));
    }

    /// <summary>The timer's callback: announces what is due for the current generation, or waits again for a later deadline.</summary>
    private void OnAttentionTimer()
    {
        lock (_sync)
        {
            long word = _stateWord;
            long due = (CircuitState)(word & StateMask) switch
            {
                CircuitState.Open => _openUntil,
                CircuitState.HalfOpen => _earliestProbeDeadline,
                _ => long.MaxValue,
            };
            if (due == long.MaxValue)
            {
                return;
            }

            if (_time.GetTimestamp() >= due)
            {
                Volatile.Write(ref _attentionGeneration, (int)(word >> GenerationShift));
            }
            else
            {
                ScheduleAttentionLocked(due);
            }
        }
    }

    /// <summary>A one-shot timer that holds its circuit weakly, so a circuit nobody uses any more can be collected.</summary>
    private sealed class AttentionTimer : IDisposable
    {
        private readonly ITimer _timer;

        public AttentionTimer(CircuitStateMachine machine, TimeProvider time)
        {
            var target = new WeakReference<CircuitStateMachine>(machine);
            _timer = time.CreateTimer(
                static state =>
                {
                    var (weak, self) = ((WeakReference<CircuitStateMachine>, AttentionTimer?[]))state!;
                    if (weak.TryGetTarget(out CircuitStateMachine? m))
                    {
                        m.OnAttentionTimer();
                    }
                    else
                    {
                        self[0]?.Dispose();
                    }
                },
                (target, _self),
                Timeout.InfiniteTimeSpan,
                Timeout.InfiniteTimeSpan);
            _self[0] = this;
        }

        private readonly AttentionTimer?[] _self = new AttentionTimer?[1];

        public void Schedule(TimeSpan delay) => _timer.Change(delay, Timeout.InfiniteTimeSpan);

        public void Cancel() => _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);

        public void Dispose() => _timer.Dispose();
    }

    /// <summary>Moves to <paramref name="to"/> under the lock: a new generation, fresh per-state bookkeeping, a log entry and a queued notification.</summary>
    private void TransitionLocked(CircuitState to, Exception? cause, bool remote = false)
    {
        Debug.Assert(_sync.IsHeldByCurrentThread, "Transitions happen only under the lock.");
        long word = _stateWord;
        var from = (CircuitState)(word & StateMask);
        long generation = (word >> GenerationShift) + 1;

        long consecutive = to == CircuitState.Closed ? 0 : _failureWord & CountMask;
        if (to == CircuitState.Closed)
        {
            _windowRule?.Reset();
        }

        if (to is CircuitState.Closed or CircuitState.Isolated)
        {
            _openAttempt = 0;
        }

        _hintDeadline = 0;
        Array.Clear(_probeIds);
        Volatile.Write(ref _probesInFlight, 0);
        Volatile.Write(ref _earliestProbeDeadline, long.MaxValue);
        _halfOpenSuccesses = 0;

        // The failure word gets the new generation before the state does, so no stale closed-state outcome can touch
        // the count of the new state.
        Volatile.Write(ref _failureWord, ((long)(uint)generation << 32) | consecutive);
        Volatile.Write(ref _stateWord, (generation << GenerationShift) | (word & DisabledFlag) | (long)to);
        if (!remote)
        {
            _localVersion = generation;
        }

        ScheduleAttentionLocked(to == CircuitState.Open ? _openUntil : long.MaxValue);

        var transition = new CircuitTransition(_options.Name, from, to, _time.GetUtcNow(), cause);
        _log ??= new CircuitTransition[CircuitBreakerDefaults.TransitionLogSize];
        _log[_logNext] = transition;
        _logNext = (_logNext + 1) % _log.Length;
        _logCount = Math.Min(_logCount + 1, _log.Length);
        _transitionCount++;
        _pending.Enqueue(transition);
        _pendingCount++;
        TripswitchTelemetry.AddTransitionEvent(transition);
    }

    /// <summary>
    /// Delivers queued transitions to the handler outside the lock, one thread at a time, in the order they happened.
    /// A thread that finds another one delivering leaves its transitions to it.
    /// </summary>
    private void DispatchNotifications()
    {
        if (Volatile.Read(ref _pendingCount) == 0 || Interlocked.CompareExchange(ref _dispatching, 1, 0) != 0)
        {
            return;
        }

        while (true)
        {
            CircuitTransition next;
            lock (_sync)
            {
                if (!_pending.TryDequeue(out next))
                {
                    _pendingCount = 0;
                    Volatile.Write(ref _dispatching, 0);
                    return;
                }

                _pendingCount--;
            }

            TripswitchTelemetry.OnTransition(this, next);
            try
            {
                _notify(next);
            }
#pragma warning disable CA1031 // A throwing state-change handler must not break the breaker or the caller's call.
            catch (Exception)
#pragma warning restore CA1031
            {
            }
        }
    }

    public CircuitSummary GetSummary()
    {
        _ = State; // performs what time alone decides
        CounterSnapshot counts = _counters.Read();
        CircuitTransition[] transitions;
        TimeSpan retryAfter = TimeSpan.Zero;
        CircuitState state;
        long consecutive;
        long stateChanges;
        lock (_sync)
        {
            stateChanges = _transitionCount;
            state = (CircuitState)(_stateWord & StateMask);
            consecutive = _failureWord & CountMask;
            transitions = _log is null ? [] : new CircuitTransition[_logCount];
            for (int i = 0; i < transitions.Length; i++)
            {
                transitions[i] = _log![(_logNext - _logCount + i + _log.Length) % _log.Length];
            }

            if (state == CircuitState.Open)
            {
                long now = _time.GetTimestamp();
                retryAfter = now < _openUntil ? _time.GetElapsedTime(now, _openUntil) : TimeSpan.Zero;
            }
            else if (state == CircuitState.Isolated)
            {
                retryAfter = TimeSpan.MaxValue;
            }
        }

        return new CircuitSummary(_options.Name, state, (int)consecutive, counts, retryAfter, transitions, stateChanges);
    }

    internal static long ToTimestampTicks(TimeSpan duration, long frequency)
        => (long)((Int128)duration.Ticks * frequency / TimeSpan.TicksPerSecond);
}
