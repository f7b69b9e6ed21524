using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using Tripswitch.Health;
using Tripswitch.Sharing;

namespace Tripswitch.Controller;

/// <summary>
/// The one place that decides state transitions. Every call path (sync, async, HTTP, chat) reaches it through
/// <see cref="CircuitPermit"/>: acquire a permit (<c>CircuitStateMachine.Permits.cs</c>), then report its outcome
/// (<c>CircuitStateMachine.Outcomes.cs</c>). This file holds the state word, the generations and the transitions;
/// <c>CircuitStateMachine.Control.cs</c> holds manual control, shared state and the summary.
/// </summary>
/// <remarks>
/// <para>
/// The closed hot path takes no lock and reads no clock: acquiring a permit is one volatile read of
/// <see cref="_stateWord"/> plus one interlocked increment in <see cref="CallCounters"/> (its shared slot, or a per-core
/// cell once callers collide, so the increment is uncontended), and a success is another such increment plus a read of
/// <see cref="_failureWord"/>. Everything else (tripping, half-open probes, manual
/// control) runs under <see cref="Sync"/>, which is never held while user code runs (callbacks, generators and
/// extractors run before the lock is taken or after it is released). Methods named <c>…Locked</c> run under it.
/// </para>
/// <para>
/// Every permit carries the generation of the state it was granted in. A transition increments the generation, so an
/// outcome that arrives after the circuit moved on is counted in the metrics but never moves the newer state.
/// </para>
/// <para>
/// Its collaborators, one job each: <see cref="ProbeSlots"/> (half-open probes), <see cref="BreakDurationPolicy"/>
/// (open periods), <see cref="TransitionLog"/> (the log and ordered delivery), <see cref="WeakTimer{T}"/> (time-based
/// work), <see cref="CallCounters"/> (counts) and <see cref="WindowRule"/> (failure-rate rules).
/// </para>
/// </remarks>
internal sealed partial class CircuitStateMachine
{
    private const long StateMask = 0x7F;
    private const long DisabledFlag = 0x80;
    private const long LowByte = 0xFF;
    private const int GenerationShift = 8;
    private const long CountMask = 0xFFFF_FFFF;

    private readonly TimeProvider _time;
    private readonly CallCounters _counters;
    private readonly CircuitBreaker _owner;
    private readonly string _name;

    // Made at first use (see CircuitStateMachine.Parts.cs): most circuits of a registry never take the lock, never change state and
    // never probe, and a registry of 10,000 circuits would otherwise carry 10,000 of each.
    private Lock? _lock;
    private TransitionLog? _log;

    // The options and what is derived from them. Validated and never changed: a registry shares one object between the
    // circuits that run with the same options (so the circuit's name is _name, not the options' Name). Replaced together under the lock by Reconfigure; lock-free readers may
    // see the old or the new value of each, which is harmless (each is read once per decision).
    private CircuitBreakerOptions _options;
    private BreakDurationPolicy _policy;
    private WindowRule? _windowRule;
    private bool _timeCalls;
    private bool _slowIsFailure;
    private long _slowTicks;

    // (generation << 8) | disabled flag | state. Written only under the lock, read lock-free.
    private long _stateWord;

    // ((uint)generation << 32) | consecutive handled failures. The generation tag makes stale outcomes miss.
    private long _failureWord;

    // Timestamp (TimeProvider.GetTimestamp units) at which the open period ends. Written under the lock before the
    // state word publishes Open, so a lock-free reader that sees Open also sees its deadline (or a later one).
    private long _openUntil;

    // Everything below is only touched under the lock (ProbeSlots publishes its count and deadline for lock-free reads).
    private ProbeSlots? _probes;
    private int _halfOpenSuccesses;
    private int _openAttempt;
    private long _hintDeadline;

    // The generation of the last transition this circuit decided itself (not applied from its fleet): remote state read
    // before it is older than what the circuit knows (see ApplyRemote).
    private long _localVersion;

    // Time-based work (an open period ending, a probe timing out) is announced by a timer of the TimeProvider, so
    // rejections can skip the clock: while _attentionGeneration differs from the current generation, nothing is due.
    private int _attentionGeneration = -1;
    private WeakTimer<CircuitStateMachine>? _attentionTimer;

    /// <summary>
    /// Creates the state machine of <paramref name="owner"/>, which it tells of transitions and rejections by direct
    /// calls, named <paramref name="name"/>, running with <paramref name="options"/> (validated; never changed).
    /// </summary>
    public CircuitStateMachine(CircuitBreakerOptions options, string name, CircuitBreaker owner)
    {
        _options = options;
        _name = name;
        _owner = owner;
        _counters = new CallCounters(this);
        _time = options.TimeProvider;
        Telemetry = TripswitchInstruments.For(options.MeterFactory);
        _ = ActivityWatch.Process; // from the first circuit on, rejections know whether an activity can be current
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

    public CircuitBreakerOptions Options => _options;

    public string Name => _name;

    /// <summary>A copy of the options, named after this circuit (what <see cref="CircuitBreaker.Options"/> returns).</summary>
    public CircuitBreakerOptions CopyOptions()
    {
        CircuitBreakerOptions copy = _options.Clone();
        copy.Name = _name;
        return copy;
    }

    /// <summary>The state as stored, without performing a due transition.</summary>
    public CircuitState RawState => (CircuitState)(Volatile.Read(ref _stateWord) & StateMask);

    /// <summary>The current state; performs a due Open → HalfOpen transition and frees timed-out probes.</summary>
    public CircuitState State
    {
        get
        {
            var state = (CircuitState)(Volatile.Read(ref _stateWord) & StateMask);
            return state is CircuitState.Open or CircuitState.HalfOpen ? Advance() : state;
        }
    }

    private int Generation => (int)(_stateWord >> GenerationShift);

    [MemberNotNull(nameof(_policy), nameof(_options))]
    private void ApplyOptions(CircuitBreakerOptions options)
    {
        _slowIsFailure = options.SlowCallRatio is null;
        _slowTicks = options.SlowCallThreshold is { } slow ? ToTimestampTicks(slow, _time.TimestampFrequency) : long.MaxValue;
        _timeCalls = options.SlowCallThreshold is not null;
        _policy = new BreakDurationPolicy(options, _name);
        _options = options;
    }

    /// <summary>
    /// Applies new options (validated, same time provider; their Name is not the circuit's) without losing the state,
    /// the counts or the
    /// transition log. The failure window starts empty only when its shape (rule, size, duration, ratios) changed.
    /// </summary>
    public void Reconfigure(CircuitBreakerOptions options)
    {
        if (!ReferenceEquals(options.TimeProvider, _time))
        {
            throw new ArgumentException($"Circuit '{_name}': the TimeProvider of a circuit cannot change while it runs.", nameof(options));
        }

        CircuitBreakerOptions old = _options;
        bool newWindow = !WindowRule.HasSameShape(old, options); // new thresholds alone keep the window's contents
        WindowRule? oldRule = null;
        lock (Sync)
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

            _probes?.ResizeLocked(options.HalfOpenMaxCalls, ToTimestampTicks(options.HalfOpenProbeTimeout, _time.TimestampFrequency));
            ApplyOptions(options);
            long word = _stateWord;
            word = options.Mode == CircuitBreakerMode.Disabled ? word | DisabledFlag : word & ~DisabledFlag;
            Volatile.Write(ref _stateWord, word);
        }

        oldRule?.Stop();
    }

    /// <summary>Performs what time alone decides (the end of an open period, a probe's timeout) and returns the state.</summary>
    private CircuitState Advance()
    {
        long expiredProbe;
        CircuitState state;
        lock (Sync)
        {
            state = AdvanceLocked(_time.GetTimestamp(), out expiredProbe);
        }

        Dispatch();
        if (expiredProbe != 0)
        {
            FailProbe(expiredProbe, ProbeTimedOut(), hint: null);
            state = RawState;
        }

        return state;
    }

    /// <summary>Opens the half-open period when the open one is over; finds a probe whose time ran out (the caller fails it outside the lock).</summary>
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
            expiredProbe = _probes?.FindExpiredLocked(now) ?? 0;
        }

        return state;
    }

    /// <summary>Closed → Open, when the failure of generation <paramref name="generation"/> still finds the circuit closed in it.</summary>
    private void TryTrip(int generation, Exception? cause, TimeSpan? hint)
    {
        TimeSpan period = _policy.OpenPeriod(openAttempt: 1, cause, hint); // user code: outside the lock
        TimeSpan openFor;
        long version;
        lock (Sync)
        {
            if (Generation != generation || (CircuitState)(_stateWord & StateMask) != CircuitState.Closed)
            {
                return; // another failure tripped it first, or it was reset/isolated
            }

            _openAttempt = 1;
            openFor = OpenLocked(cause, period);
            version = _localVersion;
        }

        Dispatch();
        _coordinator?.OnLocalTrip(openFor, hint is { } h ? _policy.CapHint(h) : null, version);
    }

    /// <summary>A probe succeeded: its slot is freed, and enough successes close the circuit.</summary>
    private void ProbeSucceeded(long probeId)
    {
        ProbeSlots.Release release;
        long lease;
        lock (Sync)
        {
            release = ProbesLocked.ReleaseLocked(probeId, _time.GetTimestamp(), out lease);
            if (release == ProbeSlots.Release.Released)
            {
                ScheduleAttentionLocked(ProbeDeadline);
                Volatile.Write(ref _failureWord, _failureWord & ~CountMask); // a success ends the run of failures
                if (++_halfOpenSuccesses >= _options.SuccessThreshold)
                {
                    TransitionLocked(CircuitState.Closed, cause: null);
                }
            }
        }

        AfterProbeReleased(probeId, release, lease, ProbeOutcome.Succeeded);
    }

    /// <summary>After a probe's slot was released (or found timed out) under the lock: fails a timed-out one, tells the fleet.</summary>
    private void AfterProbeReleased(long probeId, ProbeSlots.Release release, long lease, ProbeOutcome outcome)
    {
        if (release == ProbeSlots.Release.TimedOut)
        {
            FailProbe(probeId, ProbeTimedOut(), hint: null); // its time ran out before it answered: it failed
            return;
        }

        Dispatch();
        if (release == ProbeSlots.Release.Released && lease != 0)
        {
            _coordinator?.OnProbeCompleted(lease, outcome, TimeSpan.Zero);
        }
    }

    /// <summary>A probe failed (or timed out): HalfOpen → Open for the next, backed-off, open period.</summary>
    private void FailProbe(long probeId, Exception? cause, TimeSpan? hint)
    {
        int attempt;
        lock (Sync)
        {
            if (!ProbesLocked.HoldsLocked(probeId, out _))
            {
                return; // stale, timed out already, or reported twice: no opening, so no generator call
            }

            attempt = _openAttempt + 1;
        }

        // The generator is user code: compute the period outside the lock, then check the probe still holds its slot.
        TimeSpan period = _policy.OpenPeriod(attempt, cause, hint);
        long lease;
        TimeSpan reopenFor;
        lock (Sync)
        {
            if (!ProbesLocked.HoldsLocked(probeId, out lease))
            {
                return;
            }

            _failureWord++; // a failed probe is one more failure in a row
            _openAttempt++;
            reopenFor = OpenLocked(cause, period);
        }

        Dispatch();
        if (lease != 0)
        {
            _coordinator?.OnProbeCompleted(lease, ProbeOutcome.Failed, reopenFor);
        }
    }

    /// <summary>Opens for <paramref name="period"/>, or until an earlier hint's deadline if later; returns the open period set.</summary>
    private TimeSpan OpenLocked(Exception? cause, TimeSpan period)
    {
        long now = _time.GetTimestamp();
        _openUntil = Math.Max(now + ToTimestampTicks(period, _time.TimestampFrequency), _hintDeadline);
        TransitionLocked(CircuitState.Open, cause);
        return _time.GetElapsedTime(now, _openUntil);
    }

    private TimeoutException ProbeTimedOut()
        => new($"The half-open probe of circuit '{_name}' did not report within {_options.HalfOpenProbeTimeout}; it counts as failed.");

    /// <summary>
    /// Moves to <paramref name="to"/>: a new generation, fresh per-state bookkeeping, a log entry and a queued
    /// notification (delivered by <see cref="TransitionLog.Dispatch"/> once the lock is released).
    /// </summary>
    private void TransitionLocked(CircuitState to, Exception? cause, bool remote = false)
    {
        Debug.Assert(Sync.IsHeldByCurrentThread, "Transitions happen only under the lock.");
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
        _probes?.ClearLocked();
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
        var transition = new CircuitTransition(_name, from, to, _time.GetUtcNow(), cause);
        if (_log is null)
        {
            Volatile.Write(ref _log, new TransitionLog(Sync, Deliver)); // read lock-free by Dispatch
        }

        _log.AddLocked(transition);
        TripswitchTelemetry.AddTransitionEvent(transition);
    }

    internal static long ToTimestampTicks(TimeSpan duration, long frequency)
        => (long)((Int128)duration.Ticks * frequency / TimeSpan.TicksPerSecond);
}
