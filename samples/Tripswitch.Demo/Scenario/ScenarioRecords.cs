namespace Tripswitch.Demo;

/// <summary>How one question of a simulated user ended.</summary>
internal enum RequestOutcome
{
    /// <summary>The model asked first answered.</summary>
    Answered,

    /// <summary>The first model's circuit rejected the request, so another model answered.</summary>
    FellBack,

    /// <summary>A model was called and failed (HTTP 500, 429, a timeout): the user got an error, the circuit counted it.</summary>
    Failed,

    /// <summary>Every model's circuit rejected the request.</summary>
    Unavailable,
}

/// <summary>One question of a simulated user.</summary>
/// <param name="User">1-based.</param>
/// <param name="AskedModel">The model the user asked.</param>
/// <param name="CalledModel">The model that answered or failed; <see langword="null"/> when every circuit rejected the request.</param>
/// <param name="Outcome">How it ended.</param>
/// <param name="Detail">The answer, or what went wrong.</param>
/// <param name="Skipped">The circuit that rejected the request first, with its state and the time until it lets a call through (fallbacks only).</param>
/// <param name="At">When it ended, relative to the start of the run.</param>
internal sealed record RequestRecord(int User, string AskedModel, string? CalledModel, RequestOutcome Outcome, string Detail, SkippedCircuit? Skipped, TimeSpan At);

/// <summary>A circuit that rejected a request, so the request fell back.</summary>
internal sealed record SkippedCircuit(string Model, CircuitState State, TimeSpan RetryAfter);

/// <summary>One state change of a circuit, as the run saw it.</summary>
/// <param name="Circuit">The circuit's key, <c>openai/&lt;model&gt;</c>.</param>
/// <param name="From">The state it left.</param>
/// <param name="To">The state it entered.</param>
/// <param name="At">When, relative to the start of the run.</param>
/// <param name="Cause">What caused it, for people: <c>HTTP 500</c>, <c>HTTP 429</c>, <c>from the fleet</c>, <c>open period over</c>…</param>
/// <param name="FromFleet">Whether another process of the fleet caused it (through Redis), not this process's own calls.</param>
/// <param name="LocalFailures">How many failures of its own this process's circuit had counted by then.</param>
/// <param name="Instance">The fleet instance that saw it (1 without a fleet).</param>
internal sealed record TransitionRecord(string Circuit, CircuitState From, CircuitState To, TimeSpan At, string Cause, bool FromFleet, long LocalFailures, int Instance = 1);

/// <summary>What the run started with, for the views.</summary>
internal sealed record ScenarioStart(ScenarioSettings Settings, Uri ServerEndpoint, DateTimeOffset StartedAt);

/// <summary>One circuit at the end of the run.</summary>
internal sealed record CircuitResult(
    string Name,
    string Model,
    CircuitSummary Summary,
    int Opened,
    TimeSpan LongestOpen,
    bool Recovered);

/// <summary>How often requests to one model fell back to another, with one of the answers.</summary>
internal sealed record FallbackRoute(string From, string To, int Count, string SampleAnswer);

/// <summary>
/// The check that a 429's Retry-After decided the open period: the circuit opened by the rate limit stayed open as long
/// as the server asked, not just the recovery timeout.
/// </summary>
internal sealed record RetryAfterCheck(string Circuit, TimeSpan ServerRetryAfter, TimeSpan RecoveryTimeout, TimeSpan? OpenFor)
{
    /// <summary>A little slack for the timers (the open period is computed from monotonic timestamps, transitions are stamped with the wall clock).</summary>
    private static readonly TimeSpan s_tolerance = TimeSpan.FromMilliseconds(50);

    public bool Honoured => OpenFor is { } open && open >= ServerRetryAfter - s_tolerance && open > RecoveryTimeout;
}

/// <summary>Totals of the simulated users' questions.</summary>
internal sealed record TrafficTotals(long Requests, long Answered, long FellBack, long Failed, long Unavailable);

/// <summary>How the run ended.</summary>
internal sealed record ScenarioResult(
    ScenarioStart Start,
    TimeSpan Elapsed,
    bool Interrupted,
    IReadOnlyList<ScenarioPhase> Phases,
    IReadOnlyList<CircuitResult> Circuits,
    TrafficTotals Traffic,
    IReadOnlyList<FallbackRoute> Fallbacks,
    IReadOnlyList<TransitionRecord> Timeline,
    RetryAfterCheck RetryAfter)
{
    public ScenarioSettings Settings => Start.Settings;

    public bool AllClosed => Circuits.All(static c => c.Summary.State == CircuitState.Closed);
}

/// <summary>
/// Receives what the live scenario does. Calls come from several threads at once (the simulated users, the circuits'
/// timers): implementations synchronize themselves and return quickly.
/// </summary>
internal interface IScenarioObserver
{
    void Started(ScenarioStart start);

    void PhaseStarted(ScenarioPhase phase, TimeSpan at);

    void StateChanged(TransitionRecord transition);

    void RequestCompleted(RequestRecord request);

    void Finished(ScenarioResult result);
}

/// <summary>Hands every call to several observers, in order.</summary>
internal sealed class ObserverGroup(params IScenarioObserver[] observers) : IScenarioObserver
{
    public void Started(ScenarioStart start)
    {
        foreach (IScenarioObserver observer in observers)
        {
            observer.Started(start);
        }
    }

    public void PhaseStarted(ScenarioPhase phase, TimeSpan at)
    {
        foreach (IScenarioObserver observer in observers)
        {
            observer.PhaseStarted(phase, at);
        }
    }

    public void StateChanged(TransitionRecord transition)
    {
        foreach (IScenarioObserver observer in observers)
        {
            observer.StateChanged(transition);
        }
    }

    public void RequestCompleted(RequestRecord request)
    {
        foreach (IScenarioObserver observer in observers)
        {
            observer.RequestCompleted(request);
        }
    }

    public void Finished(ScenarioResult result)
    {
        foreach (IScenarioObserver observer in observers)
        {
            observer.Finished(result);
        }
    }
}
