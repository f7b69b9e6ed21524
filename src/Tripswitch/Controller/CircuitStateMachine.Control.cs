using Tripswitch.Sharing;

namespace Tripswitch.Controller;

/// <summary>What operators, a fleet and readers do with the circuit: manual control, shared state, the summary.</summary>
internal sealed partial class CircuitStateMachine
{
    private CircuitCoordinator? _coordinator;

    public void Isolate()
    {
        if ((Volatile.Read(ref _stateWord) & DisabledFlag) != 0)
        {
            return; // a disabled circuit lets everything pass and records nothing, an operator's isolation included
        }

        long version;
        lock (Sync)
        {
            if ((CircuitState)(_stateWord & StateMask) != CircuitState.Isolated)
            {
                TransitionLocked(CircuitState.Isolated, cause: null);
            }

            version = _localVersion = _stateWord >> GenerationShift; // an operator's decision, even when nothing changed
        }

        Dispatch();
        _coordinator?.OnManualChange(CircuitState.Isolated, version);
    }

    public void Reset()
    {
        long version;
        lock (Sync)
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

        Dispatch();
        _coordinator?.OnManualChange(CircuitState.Closed, version);
    }

    /// <summary>Plugs shared state in (one coordinator per circuit, before or while it runs); returns the one it replaces.</summary>
    public CircuitCoordinator? Attach(CircuitCoordinator? coordinator) => Interlocked.Exchange(ref _coordinator, coordinator);

    public CircuitCoordinator? Coordinator => Volatile.Read(ref _coordinator);

    /// <summary>The generation: increases with every transition and every reset (what a coordinator compares remote state against).</summary>
    public long Version => Volatile.Read(ref _stateWord) >> GenerationShift;

    public CounterSnapshot Counts => _counters.Read();

    /// <summary>The consecutive-failure count of the current state (what a coordinator reports to its fleet).</summary>
    public int ConsecutiveFailures => (int)(Volatile.Read(ref _failureWord) & CountMask);

    /// <summary>The open period a fleet applies, through the circuit's own policy (see <see cref="BreakDurationPolicy.OpenPeriod"/>).</summary>
    public TimeSpan ComputeOpenPeriod(int openAttempt, Exception? cause, TimeSpan? hint) => _policy.OpenPeriod(openAttempt, cause, hint);

    /// <summary>
    /// Makes the local state follow the fleet's: <paramref name="state"/>, with <paramref name="openFor"/> left of an
    /// open period, unless the circuit decided a transition itself after <paramref name="basedOnVersion"/> (then the
    /// remote state is older than what it knows and is dropped). A transition (new generation, log entry, notification)
    /// happens only when the state differs; an open deadline is moved to the fleet's. Never calls the coordinator back.
    /// </summary>
    public bool ApplyRemote(CircuitState state, TimeSpan openFor, long basedOnVersion)
    {
        lock (Sync)
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

        Dispatch();
        return true;
    }

    /// <summary>Stops background work and telemetry for a breaker that is being dropped (a registry evicted it).</summary>
    public void Detach()
    {
        _windowRule?.Stop();
        _attentionTimer?.Dispose();
        TripswitchTelemetry.Unregister(this);
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
        lock (Sync)
        {
            stateChanges = _log?.TotalLocked ?? 0;
            state = (CircuitState)(_stateWord & StateMask);
            consecutive = _failureWord & CountMask;
            transitions = _log?.SnapshotLocked() ?? [];
            if (state == CircuitState.Open)
            {
                retryAfter = TimeUntil(_openUntil);
            }
            else if (state == CircuitState.Isolated)
            {
                retryAfter = TimeSpan.MaxValue;
            }
        }

        return new CircuitSummary(_name, state, (int)consecutive, counts, retryAfter, transitions, stateChanges);
    }
}
