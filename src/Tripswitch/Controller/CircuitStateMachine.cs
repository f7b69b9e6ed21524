using System.Diagnostics;

namespace Tripswitch.Controller;

/// <summary>
/// The one place that decides state transitions. Every call path (sync, async, HTTP, chat) reaches it through
/// <see cref="CircuitPermit"/>: acquire a permit, then report its outcome.
/// </summary>
/// <remarks>
/// <para>
/// The closed hot path takes no lock: acquiring a permit is one volatile read of <see cref="_stateWord"/>, and a
/// success is one striped counter increment plus a read of <see cref="_failureWord"/>. Everything else (tripping,
/// half-open probes, manual control) runs under <see cref="_sync"/>, which is never held while user code runs.
/// </para>
/// <para>
/// Every permit carries the generation of the state it was granted in. A transition increments the generation, so an
/// outcome that arrives after the circuit moved on is counted in the metrics but never moves the newer state.
/// </para>
/// </remarks>
internal sealed class CircuitStateMachine
{
    private const long StateMask = 0xFF;
    private const int GenerationShift = 8;
    private const long CountMask = 0xFFFF_FFFF;

    private readonly Lock _sync = new();
    private readonly CircuitBreakerOptions _options;
    private readonly TimeProvider _time;
    private readonly long _recoveryTimestampTicks;
    private readonly Action<CircuitTransition> _notify;
    private readonly CallCounters _counters = new();

    // (generation << 8) | state. Written only under _sync, read lock-free.
    private long _stateWord;

    // ((uint)generation << 32) | consecutive handled failures. The generation tag makes stale outcomes miss.
    private long _failureWord;

    // Timestamp (TimeProvider.GetTimestamp units) at which the open period ends. Written under _sync before the
    // state word publishes Open, so a lock-free reader that sees Open also sees its deadline.
    private long _openUntil;

    // Half-open bookkeeping, only touched under _sync.
    private readonly long[] _probeIds;
    private int _probesInFlight;
    private int _halfOpenSuccesses;
    private long _lastProbeId;

    // Recent transitions (ring) and the ones not yet delivered to handlers, both under _sync.
    private readonly CircuitTransition[] _log = new CircuitTransition[CircuitBreakerDefaults.TransitionLogSize];
    private int _logNext;
    private int _logCount;
    private readonly Queue<CircuitTransition> _pending = new();
    private int _pendingCount;
    private int _dispatching;

    public CircuitStateMachine(CircuitBreakerOptions options, Action<CircuitTransition> notify)
    {
        _options = options;
        _time = options.TimeProvider;
        _notify = notify;
        _probeIds = new long[options.HalfOpenMaxCalls];
        _recoveryTimestampTicks = ToTimestampTicks(options.RecoveryTimeout, _time.TimestampFrequency);
    }

    public CircuitBreakerOptions Options => _options;

    public string Name => _options.Name;

    /// <summary>The state as stored, without performing a due Open → HalfOpen transition.</summary>
    public CircuitState RawState => (CircuitState)(Volatile.Read(ref _stateWord) & StateMask);

    public long InFlight => _counters.Read().InFlight;

    /// <summary>The current state; performs the Open → HalfOpen transition when the open period is over.</summary>
    public CircuitState State
    {
        get
        {
            long word = Volatile.Read(ref _stateWord);
            var state = (CircuitState)(word & StateMask);
            if (state == CircuitState.Open && _time.GetTimestamp() >= Volatile.Read(ref _openUntil))
            {
                lock (_sync)
                {
                    state = (CircuitState)(_stateWord & StateMask);
                    if (state == CircuitState.Open && _time.GetTimestamp() >= _openUntil)
                    {
                        TransitionLocked(CircuitState.HalfOpen, cause: null);
                        state = CircuitState.HalfOpen;
                    }
                }

                DispatchNotifications();
            }

            return state;
        }
    }

    public bool TryAcquire(out CircuitPermit permit, out CircuitRejection rejection)
    {
        long word = Volatile.Read(ref _stateWord);
        if ((word & StateMask) == (long)CircuitState.Closed)
        {
            _counters.AddStarted();
            permit = new CircuitPermit(this, (int)(word >> GenerationShift), probeId: 0);
            rejection = default;
            return true;
        }

        return TryAcquireSlow(word, out permit, out rejection);
    }

    private bool TryAcquireSlow(long word, out CircuitPermit permit, out CircuitRejection rejection)
    {
        // Lock-free rejection while the open period lasts: the deadline was published before the state.
        if ((CircuitState)(word & StateMask) == CircuitState.Open)
        {
            long now = _time.GetTimestamp();
            long until = Volatile.Read(ref _openUntil);
            if (now < until)
            {
                _counters.AddRejected();
                permit = default;
                rejection = new CircuitRejection(CircuitState.Open, _time.GetElapsedTime(now, until));
                return false;
            }
        }

        bool granted;
        lock (_sync)
        {
            word = _stateWord;
            var state = (CircuitState)(word & StateMask);
            if (state == CircuitState.Open)
            {
                long now = _time.GetTimestamp();
                if (now < _openUntil)
                {
                    permit = default;
                    rejection = new CircuitRejection(CircuitState.Open, _time.GetElapsedTime(now, _openUntil));
                    granted = false;
                    goto Done;
                }

                TransitionLocked(CircuitState.HalfOpen, cause: null);
                word = _stateWord;
                state = CircuitState.HalfOpen;
            }

            switch (state)
            {
                case CircuitState.Closed:
                    permit = new CircuitPermit(this, (int)(word >> GenerationShift), probeId: 0);
                    rejection = default;
                    granted = true;
                    break;

                case CircuitState.HalfOpen when _probesInFlight < _probeIds.Length:
                    long probeId = ++_lastProbeId;
                    _probeIds[Array.IndexOf(_probeIds, 0L)] = probeId;
                    _probesInFlight++;
                    permit = new CircuitPermit(this, (int)(word >> GenerationShift), probeId);
                    rejection = default;
                    granted = true;
                    break;

                case CircuitState.HalfOpen:
                    permit = default;
                    rejection = new CircuitRejection(CircuitState.HalfOpen, TimeSpan.Zero);
                    granted = false;
                    break;

                default:
                    Debug.Assert(state == CircuitState.Isolated, "Open was handled above.");
                    permit = default;
                    rejection = new CircuitRejection(CircuitState.Isolated, TimeSpan.MaxValue);
                    granted = false;
                    break;
            }

        Done:;
        }

        if (granted)
        {
            _counters.AddStarted();
        }
        else
        {
            _counters.AddRejected();
        }

        DispatchNotifications();
        return granted;
    }

    public void OnSuccess(in CircuitPermit permit)
    {
        _counters.AddSuccess();
        if (permit.ProbeId != 0)
        {
            OnProbeCompleted(permit, CallOutcome.Success, exception: null);
            return;
        }

        // A success resets the consecutive count of its own generation; a write only when there is something to
        // reset keeps the cache line shared between cores while all is well.
        long fw = Volatile.Read(ref _failureWord);
        if ((fw & CountMask) != 0 && (int)(fw >>> 32) == permit.Generation)
        {
            Interlocked.CompareExchange(ref _failureWord, fw & ~CountMask, fw);
        }
    }

    public void OnFailure(in CircuitPermit permit, Exception? exception)
    {
        _counters.AddFailure();
        if (permit.ProbeId != 0)
        {
            OnProbeCompleted(permit, CallOutcome.Failure, exception);
            return;
        }

        while (true)
        {
            long fw = Volatile.Read(ref _failureWord);
            if ((int)(fw >>> 32) != permit.Generation)
            {
                return; // the circuit moved on since this call started
            }

            long next = fw + 1;
            if (Interlocked.CompareExchange(ref _failureWord, next, fw) == fw)
            {
                if ((next & CountMask) >= (uint)_options.FailureThreshold)
                {
                    TryTrip(permit.Generation, exception);
                }

                return;
            }
        }
    }

    public void OnIgnored(in CircuitPermit permit)
    {
        _counters.AddIgnored();
        if (permit.ProbeId != 0)
        {
            OnProbeCompleted(permit, CallOutcome.Ignored, exception: null);
        }
    }

    private void TryTrip(int generation, Exception? cause)
    {
        lock (_sync)
        {
            long word = _stateWord;
            if ((int)(word >> GenerationShift) != generation || (CircuitState)(word & StateMask) != CircuitState.Closed)
            {
                return; // another failure tripped it first, or it was reset/isolated
            }

            TransitionLocked(CircuitState.Open, cause);
        }

        DispatchNotifications();
    }

    private void OnProbeCompleted(in CircuitPermit permit, CallOutcome outcome, Exception? exception)
    {
        lock (_sync)
        {
            // Probe ids are unique and every transition frees all slots, so a probe from an earlier half-open
            // period (or a permit reported twice) finds no slot and changes nothing.
            int slot = Array.IndexOf(_probeIds, permit.ProbeId);
            if (slot < 0)
            {
                return;
            }

            Debug.Assert((CircuitState)(_stateWord & StateMask) == CircuitState.HalfOpen, "Probe slots exist only while half-open.");
            _probeIds[slot] = 0;
            _probesInFlight--;

            switch (outcome)
            {
                case CallOutcome.Success:
                    if (++_halfOpenSuccesses >= _options.SuccessThreshold)
                    {
                        TransitionLocked(CircuitState.Closed, cause: null);
                    }

                    break;

                case CallOutcome.Failure:
                    _failureWord++; // a failed probe is one more failure in a row
                    TransitionLocked(CircuitState.Open, exception);
                    break;
            }
        }

        DispatchNotifications();
    }

    public void Isolate()
    {
        lock (_sync)
        {
            if ((CircuitState)(_stateWord & StateMask) != CircuitState.Isolated)
            {
                TransitionLocked(CircuitState.Isolated, cause: null);
            }
        }

        DispatchNotifications();
    }

    public void Reset()
    {
        lock (_sync)
        {
            if ((CircuitState)(_stateWord & StateMask) != CircuitState.Closed)
            {
                TransitionLocked(CircuitState.Closed, cause: null);
            }
            else
            {
                Volatile.Write(ref _failureWord, _failureWord & ~CountMask);
            }
        }

        DispatchNotifications();
    }

    /// <summary>Moves to <paramref name="to"/> under the lock: a new generation, fresh per-state bookkeeping, a log entry and a queued notification.</summary>
    private void TransitionLocked(CircuitState to, Exception? cause)
    {
        Debug.Assert(_sync.IsHeldByCurrentThread, "Transitions happen only under the lock.");
        long word = _stateWord;
        var from = (CircuitState)(word & StateMask);
        long generation = (word >> GenerationShift) + 1;

        long consecutive = to == CircuitState.Closed ? 0 : _failureWord & CountMask;
        if (to == CircuitState.Open)
        {
            _openUntil = _time.GetTimestamp() + _recoveryTimestampTicks;
        }

        Array.Clear(_probeIds);
        _probesInFlight = 0;
        _halfOpenSuccesses = 0;

        // The failure word gets the new generation before the state does, so no stale closed-state outcome can
        // touch the count of the new state.
        Volatile.Write(ref _failureWord, ((long)(uint)generation << 32) | consecutive);
        Volatile.Write(ref _stateWord, (generation << GenerationShift) | (long)to);

        var transition = new CircuitTransition(_options.Name, from, to, _time.GetUtcNow(), cause);
        _log[_logNext] = transition;
        _logNext = (_logNext + 1) % _log.Length;
        _logCount = Math.Min(_logCount + 1, _log.Length);
        _pending.Enqueue(transition);
        _pendingCount++;
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
        CounterSnapshot counts = _counters.Read();
        CircuitState state = State;
        CircuitTransition[] transitions;
        TimeSpan retryAfter = TimeSpan.Zero;
        long consecutive;
        lock (_sync)
        {
            state = (CircuitState)(_stateWord & StateMask);
            consecutive = _failureWord & CountMask;
            transitions = new CircuitTransition[_logCount];
            int first = (_logNext - _logCount + _log.Length) % _log.Length;
            for (int i = 0; i < _logCount; i++)
            {
                transitions[i] = _log[(first + i) % _log.Length];
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

        return new CircuitSummary(_options.Name, state, (int)consecutive, counts.Successful, counts.Failed, counts.Ignored, counts.Rejected, retryAfter, transitions);
    }

    internal static long ToTimestampTicks(TimeSpan duration, long frequency)
        => (long)((Int128)duration.Ticks * frequency / TimeSpan.TicksPerSecond);

    private enum CallOutcome
    {
        Success,
        Failure,
        Ignored,
    }
}

/// <summary>Why a permit was refused: the state and how long until a call may pass.</summary>
internal readonly record struct CircuitRejection(CircuitState State, TimeSpan RetryAfter);
