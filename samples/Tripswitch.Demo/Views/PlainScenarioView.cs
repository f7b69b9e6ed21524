namespace Tripswitch.Demo;

/// <summary>
/// The scenario as plain lines, for a pipe or CI: the setup, then phase changes, transitions, the first error of each
/// model in each phase and the first fallback answer after each trip as they happen; at the end the summary and the
/// timeline of transitions.
/// </summary>
internal sealed class PlainScenarioView(TextWriter output) : IScenarioObserver, IFleetObserver
{
    private readonly Lock _sync = new();
    private readonly HashSet<string> _fallbackPending = new(StringComparer.Ordinal);
    private readonly HashSet<(string Model, int Phase)> _errorShown = [];
    private int _phase;

    /// <summary>Extra lines for the header (the dashboard's URL, the fleet).</summary>
    public List<string> Notes { get; } = [];

    private bool _headerWritten;

    public void Started(ScenarioStart start) => WriteHeader(start.Settings, start.ServerEndpoint);

    /// <summary>The setup: the models, the circuits' rules, and the <see cref="Notes"/>; once.</summary>
    public void WriteHeader(ScenarioSettings settings, Uri serverEndpoint)
    {
        lock (_sync)
        {
            if (_headerWritten)
            {
                return;
            }

            _headerWritten = true;
            output.WriteLine(Format.Invariant(
                $"Tripswitch live demo (seed {settings.Seed}, {Format.Seconds(settings.Duration)}, {settings.Users} simulated users)"));
            output.WriteLine($"FakeLlm (OpenAI-compatible, offline) at {serverEndpoint} serving {string.Join(", ", ScenarioSettings.Models)}");
            output.WriteLine(Format.Invariant(
                $"Official OpenAI client -> Tripswitch HTTP handler -> circuit openai/<model>: opens after {settings.FailureThreshold} failures in a row, probes after {Format.Seconds(settings.RecoveryTimeout)} (or the server's Retry-After), closes after {settings.SuccessThreshold} good probes"));
            output.WriteLine("A request to a model whose circuit is open falls back to another model.");
            foreach (string note in Notes)
            {
                output.WriteLine(note);
            }

            output.WriteLine();
        }
    }

    public void PhaseStarted(ScenarioPhase phase, TimeSpan at)
    {
        lock (_sync)
        {
            _phase = phase.Number;
            output.WriteLine(Format.Invariant($"[{Format.Offset(at),8}] phase {phase.Number}/4 {phase.Title}: {phase.Description}"));
        }
    }

    public void StateChanged(TransitionRecord transition)
    {
        lock (_sync)
        {
            string cause = transition.Cause.Length > 0 ? $" ({transition.Cause})" : string.Empty;
            output.WriteLine(Format.Invariant(
                $"[{Format.Offset(transition.At),8}] circuit {transition.Circuit}: {transition.From.ToDisplayName()} → {transition.To.ToDisplayName()}{cause}"));
            if (transition.To == CircuitState.Open)
            {
                _fallbackPending.Add(ScenarioSettings.ModelOf(transition.Circuit));
            }
        }
    }

    public void RequestCompleted(RequestRecord request)
    {
        lock (_sync)
        {
            switch (request.Outcome)
            {
                case RequestOutcome.FellBack when _fallbackPending.Remove(request.Skipped!.Model):
                    output.WriteLine(Format.Invariant(
                        $"[{Format.Offset(request.At),8}] fallback: user {request.User} asked {request.AskedModel}; circuit openai/{request.Skipped.Model} is {request.Skipped.State.ToDisplayName()}{RetryIn(request.Skipped)}, so {request.CalledModel} answered: \"{request.Detail}\""));
                    break;
                case RequestOutcome.Failed when _errorShown.Add((request.CalledModel!, _phase)):
                    output.WriteLine(Format.Invariant(
                        $"[{Format.Offset(request.At),8}] error: user {request.User} asked {request.CalledModel}: {request.Detail} (counted by openai/{request.CalledModel})"));
                    break;
                case RequestOutcome.Unavailable when _errorShown.Add(("*", _phase)):
                    output.WriteLine(Format.Invariant(
                        $"[{Format.Offset(request.At),8}] unavailable: user {request.User} asked {request.AskedModel}: {request.Detail}"));
                    break;
                default:
                    break;
            }
        }
    }

    public void FleetMemberReady(FleetMemberStatus member)
    {
        lock (_sync)
        {
            output.WriteLine(Format.Invariant($"fleet: instance {member.Instance} (pid {member.ProcessId}) joined; its FakeLlm at {member.Endpoint} stays healthy"));
        }
    }

    public void FleetTransition(TransitionRecord transition)
    {
        if (transition.To != CircuitState.Open)
        {
            return; // the other instances' circuits follow the fleet: their trips are the news
        }

        lock (_sync)
        {
            string how = transition.FromFleet
                ? Format.Invariant($"from the fleet, after {transition.LocalFailures} failures of its own")
                : transition.Cause;
            output.WriteLine(Format.Invariant(
                $"[{Format.Offset(transition.At),8}] instance {transition.Instance}: circuit {transition.Circuit}: {transition.From.ToDisplayName()} → {transition.To.ToDisplayName()}{(how.Length > 0 ? $" ({how})" : string.Empty)}"));
        }
    }

    public void Finished(ScenarioResult result)
    {
    }

    /// <summary>The summary and the timeline, after the run (and, with a fleet, after its members have finished).</summary>
    public void WriteSummary(ScenarioResult result, FleetReport? fleet)
    {
        lock (_sync)
        {
            foreach (string line in SummaryText.Lines(result, fleet))
            {
                output.WriteLine(line);
            }
        }
    }

    private static string RetryIn(SkippedCircuit skipped)
        => skipped.State == CircuitState.Open ? $", retry in {Format.Seconds2(skipped.RetryAfter)}" : ", its one probe is out";
}
