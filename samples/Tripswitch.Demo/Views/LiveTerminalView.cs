using Spectre.Console;
using Spectre.Console.Rendering;

namespace Tripswitch.Demo;

/// <summary>
/// The live terminal view (Spectre.Console): the scenario's progress bar with its phases, the circuits table (state in
/// colour, calls, failures, rejections, success rate, time until a probe), each simulated user's last answer, the
/// latest events and, with a fleet, every instance's view of the shared circuits; redrawn five times a second. At the
/// end: the summary, the fallbacks, the Retry-After check and the timeline of transitions.
/// </summary>
internal sealed class LiveTerminalView : IScenarioObserver, IFleetObserver
{
    private static readonly TimeSpan s_refresh = TimeSpan.FromMilliseconds(200);

    private readonly IAnsiConsole _console;
    private readonly LiveScenario _scenario;
    private readonly Lock _sync = new();
    private readonly List<string> _events = [];
    private readonly Dictionary<int, RequestRecord> _lastAnswers = [];
    private readonly Dictionary<string, int> _opened = new(StringComparer.Ordinal);
    private readonly HashSet<string> _fallbackPending = new(StringComparer.Ordinal);
    private readonly HashSet<(string Model, int Phase)> _errorShown = [];
    private readonly Dictionary<string, TransitionRecord> _firstOpen = new(StringComparer.Ordinal);
    private int _phase;

    public LiveTerminalView(IAnsiConsole console, LiveScenario scenario)
    {
        _console = console;
        _scenario = scenario;
    }

    public Uri? DashboardUrl { get; set; }

    public FleetLauncher? Fleet { get; set; }

    public string? FleetDescription { get; set; }

    private int MaxEvents => Fleet is null ? 8 : 4;

    /// <summary>Runs <paramref name="run"/> under the live display; the last frame stays on the screen.</summary>
    public async Task<ScenarioResult> RunAsync(Func<Task<ScenarioResult>> run)
    {
        ScenarioResult? result = null;
        await _console.Live(Render())
            .AutoClear(false)
            .Overflow(VerticalOverflow.Ellipsis)
            .Cropping(VerticalOverflowCropping.Bottom)
            .StartAsync(async context =>
            {
                Task<ScenarioResult> running = run();
                while (!running.IsCompleted)
                {
                    context.UpdateTarget(Render());
                    context.Refresh();
                    await Task.WhenAny(running, Task.Delay(s_refresh));
                }

                result = await running;
                context.UpdateTarget(Render());
                context.Refresh();
            });
        return result!;
    }

    public void Started(ScenarioStart start) => AddEvent(TimeSpan.Zero, "[grey]scenario started[/]");

    public void PhaseStarted(ScenarioPhase phase, TimeSpan at)
    {
        lock (_sync)
        {
            _phase = phase.Number;
        }

        AddEvent(at, $"[bold {PhaseColor(phase.Number)}]phase {phase.Number}/4 {Markup.Escape(phase.Title)}[/]: {Markup.Escape(phase.Description)}");
    }

    public void StateChanged(TransitionRecord transition)
    {
        lock (_sync)
        {
            if (transition.To == CircuitState.Open)
            {
                _opened[transition.Circuit] = _opened.GetValueOrDefault(transition.Circuit) + 1;
                _fallbackPending.Add(ScenarioSettings.ModelOf(transition.Circuit));
                _firstOpen.TryAdd(transition.Circuit, transition);
            }
        }

        AddEvent(transition.At, $"{Markup.Escape(transition.Circuit)} {Transition(transition.From, transition.To)}{Cause(transition.Cause)}");
    }

    public void RequestCompleted(RequestRecord request)
    {
        string? line = null;
        lock (_sync)
        {
            _lastAnswers[request.User] = request;
            switch (request.Outcome)
            {
                case RequestOutcome.FellBack when _fallbackPending.Remove(request.Skipped!.Model):
                    line = $"[yellow]fallback[/] user {request.User} asked {Markup.Escape(request.Skipped.Model)} ({State(request.Skipped.State)}{RetryIn(request.Skipped)}) [yellow]↪ {Markup.Escape(request.CalledModel!)}[/]: “{Markup.Escape(request.Detail)}”";
                    break;
                case RequestOutcome.Failed when _errorShown.Add((request.CalledModel!, _phase)):
                    line = $"[red]error[/] user {request.User}: {Markup.Escape(request.CalledModel!)} {Markup.Escape(request.Detail)}";
                    break;
                default:
                    break;
            }
        }

        if (line is not null)
        {
            AddEvent(request.At, line);
        }
    }

    public void Finished(ScenarioResult result)
        => AddEvent(result.Elapsed, result.Interrupted ? "[red]interrupted[/]" : "[grey]scenario finished[/]");

    public void FleetMemberReady(FleetMemberStatus member)
    {
    }

    public void FleetTransition(TransitionRecord transition)
    {
        if (transition.To == CircuitState.Open)
        {
            string how = transition.FromFleet ? Format.Invariant($"from the fleet, {transition.LocalFailures} failures of its own") : transition.Cause;
            AddEvent(transition.At, $"[blue]instance {transition.Instance}[/] {Markup.Escape(transition.Circuit)} {Transition(transition.From, transition.To)}{Cause(how)}");
        }
    }

    private void AddEvent(TimeSpan at, string markup)
    {
        lock (_sync)
        {
            _events.Add($"[grey]{Format.Offset(at),8}[/] {markup}");
            if (_events.Count > 16)
            {
                _events.RemoveAt(0);
            }
        }
    }

    private Rows Render()
    {
        lock (_sync)
        {
            var parts = new List<IRenderable> { Header(), PhaseBar(), CircuitsTable(), UsersTable(), Totals() };
            if (Fleet is not null)
            {
                parts.Add(FleetTable(Fleet));
            }

            parts.Add(EventsPanel());
            return new Rows(parts);
        }
    }

    private Markup Header()
    {
        ScenarioSettings settings = _scenario.Settings;
        string text = Format.Invariant(
            $"[bold]Tripswitch[/] live demo [grey]· seed {settings.Seed} · {settings.Users} simulated users · FakeLlm at {Markup.Escape(_scenario.ServerEndpoint.ToString())} (offline)[/]\n") +
            Format.Invariant(
            $"[grey]OpenAI client → Tripswitch handler → circuit openai/<model>: opens after {settings.FailureThreshold} failures, probes after {Format.Seconds(settings.RecoveryTimeout)} or Retry-After[/]");
        if (DashboardUrl is not null)
        {
            text += $"\n[grey]dashboard:[/] [link]{Markup.Escape(DashboardUrl.ToString())}[/]";
        }

        if (FleetDescription is not null)
        {
            text += $"\n[grey]fleet:[/] {Markup.Escape(FleetDescription)}";
        }

        return new Markup(text);
    }

    private Markup PhaseBar()
    {
        const int Width = 64;
        ScenarioSettings settings = _scenario.Settings;
        TimeSpan elapsed = _scenario.Elapsed;
        double total = settings.Duration.TotalSeconds;
        int filled = (int)Math.Round(Math.Clamp(elapsed.TotalSeconds / total, 0, 1) * Width);
        var bar = new System.Text.StringBuilder();
        var labels = new System.Text.StringBuilder();
        int column = 0;
        foreach (ScenarioPhase phase in settings.Phases)
        {
            int end = phase.Number == settings.Phases.Count ? Width : (int)Math.Round(phase.End.TotalSeconds / total * Width);
            int width = end - column;
            int done = Math.Clamp(filled - column, 0, width);
            string color = PhaseColor(phase.Number);
            bar.Append(Format.Invariant($"[{color}]{new string('━', done)}[/][grey23]{new string('━', width - done)}[/]"));
            bool current = _scenario.CurrentPhase?.Number == phase.Number;
            string label = Format.Shorten(phase.Title, Math.Max(1, width - 1)).PadRight(width);
            labels.Append(current ? $"[bold {color}]{Markup.Escape(label)}[/]" : $"[grey]{Markup.Escape(label)}[/]");
            column = end;
        }

        ScenarioPhase? now = _scenario.CurrentPhase;
        string status = _scenario.Overtime
            ? "[grey]past the end: waiting for the circuits to close[/]"
            : now is null ? "[grey]starting…[/]" : $"[{PhaseColor(now.Number)}]{Markup.Escape(now.Description)}[/]";
        return new Markup(Format.Invariant(
            $"{bar} [bold]{elapsed.TotalSeconds,5:0.0}s[/][grey] / {total:0.#}s[/]\n{labels}\n{status}")).Overflow(Overflow.Ellipsis);
    }

    private Table CircuitsTable()
    {
        var table = new Table().Border(TableBorder.Rounded).BorderColor(Color.Grey23).Title("[bold]circuits[/]").Expand();
        table.AddColumn("circuit");
        table.AddColumn("state");
        table.AddColumn(new TableColumn("calls").RightAligned());
        table.AddColumn(new TableColumn("ok").RightAligned());
        table.AddColumn(new TableColumn("failures").RightAligned());
        table.AddColumn(new TableColumn("rejected").RightAligned());
        table.AddColumn(new TableColumn("success rate").RightAligned());
        table.AddColumn(new TableColumn("retry in").RightAligned());
        table.AddColumn(new TableColumn("opened").RightAligned());
        foreach (string model in ScenarioSettings.Models)
        {
            string key = ScenarioSettings.CircuitKey(model);
            CircuitSummary s = _scenario.Registry.Get(key).GetSummary();
            table.AddRow(
                Markup.Escape(key),
                State(s.State),
                Format.Number(s.TotalCalls),
                Format.Number(s.Successful),
                s.Failed > 0 ? $"[red]{s.Failed}[/]" : "0",
                s.Rejected > 0 ? $"[yellow]{s.Rejected}[/]" : "0",
                Rate(s.SuccessRate),
                s.State == CircuitState.Open ? $"[red]{Format.Seconds2(s.RetryAfter)}[/]" : "[grey]-[/]",
                Format.Number(_opened.GetValueOrDefault(key)));
        }

        return table;
    }

    private Table UsersTable()
    {
        var table = new Table().Border(TableBorder.Rounded).BorderColor(Color.Grey23).Title("[bold]simulated users[/] [grey](last answer)[/]").Expand();
        table.AddColumn("user");
        table.AddColumn("asks");
        table.AddColumn("answer");
        for (int user = 1; user <= _scenario.Settings.Users; user++)
        {
            string answer = _lastAnswers.TryGetValue(user, out RequestRecord? last) ? Answer(last) : "[grey]…[/]";
            table.AddRow(Format.Invariant($"user {user}"), Markup.Escape(ScenarioSettings.PrimaryModel(user)), answer);
        }

        return table;
    }

    private static string Answer(RequestRecord r) => r.Outcome switch
    {
        RequestOutcome.Answered => $"[green]{Markup.Escape(r.CalledModel!)}[/]: {Markup.Escape(r.Detail)}",
        RequestOutcome.FellBack => $"[yellow]↪ {Markup.Escape(r.CalledModel!)}[/] [grey]({Markup.Escape(r.Skipped!.Model)} {r.Skipped.State.ToDisplayName()})[/]: {Markup.Escape(r.Detail)}",
        RequestOutcome.Failed => $"[red]✗ {Markup.Escape(r.CalledModel!)}: {Markup.Escape(r.Detail)}[/]",
        _ => $"[red]✗ {Markup.Escape(r.Detail)}[/]",
    };

    private Markup Totals()
    {
        TrafficTotals t = _scenario.Traffic;
        return new Markup(Format.Invariant(
            $" requests [bold]{t.Requests}[/] · answered by the model asked [green]{t.Answered}[/] · by a fallback model [yellow]{t.FellBack}[/] · errors [red]{t.Failed}[/] · unavailable {t.Unavailable}"));
    }

    private Table FleetTable(FleetLauncher fleet)
    {
        string[] circuits = [.. ScenarioSettings.Models.Take(2).Select(ScenarioSettings.CircuitKey)];
        var table = new Table().Border(TableBorder.Rounded).BorderColor(Color.Grey23).Title("[bold]fleet[/] [grey](circuits shared through Redis)[/]").Expand();
        table.AddColumn("instance");
        foreach (string circuit in circuits)
        {
            table.AddColumn(Markup.Escape(circuit));
        }

        table.AddColumn(new TableColumn($"saw {Markup.Escape(circuits[0])} open").NoWrap());
        table.AddColumn(new TableColumn("requests").RightAligned());
        table.AddColumn(new TableColumn("fallbacks").RightAligned());

        TrafficTotals own = _scenario.Traffic;
        var row = new List<string> { Format.Invariant($"1 [grey]pid {Environment.ProcessId}[/] [red]failing[/]") };
        row.AddRange(circuits.Select(c => State(_scenario.Registry.Get(c).State)));
        row.Add(FirstOpen(_firstOpen.GetValueOrDefault(circuits[0])));
        row.Add(Format.Number(own.Requests));
        row.Add(Format.Number(own.FellBack));
        table.AddRow([.. row]);

        foreach (FleetMemberStatus member in fleet.Members)
        {
            row = [Format.Invariant($"{member.Instance} [grey]pid {member.ProcessId}[/] [green]healthy[/]")];
            row.AddRange(circuits.Select(c => member.StateOf(c) is { } state ? State(state) : "[grey]?[/]"));
            row.Add(FirstOpen(member.FirstOpen(circuits[0])));
            row.Add(Format.Number(member.Requests));
            row.Add(Format.Number(member.FellBack));
            table.AddRow([.. row]);
        }

        return table;
    }

    private static string FirstOpen(TransitionRecord? open) => open is null
        ? "[grey]-[/]"
        : open.FromFleet
            ? Format.Invariant($"{Format.Offset(open.At)} [blue]via Redis[/] [grey]({open.LocalFailures} own failures)[/]")
            : Format.Invariant($"{Format.Offset(open.At)} [red]tripped here[/] [grey]({open.LocalFailures} failures)[/]");

    private Panel EventsPanel()
    {
        IEnumerable<string> lines = _events.TakeLast(MaxEvents);
        return new Panel(new Markup(string.Join('\n', lines)))
            .Header("[bold]events[/]")
            .Border(BoxBorder.Rounded)
            .BorderColor(Color.Grey23)
            .Expand();
    }

    /// <summary>The summary, the fallbacks, the Retry-After check, the timeline and the fleet, below the last frame.</summary>
    public void WriteSummary(ScenarioResult result, FleetReport? fleet)
    {
        _console.WriteLine();
        TrafficTotals t = result.Traffic;
        string ending = result.Interrupted
            ? "[red]interrupted[/]"
            : result.AllClosed ? "[green]every circuit closed again[/]" : "[yellow]some circuits are still not closed[/]";
        _console.Write(new Rule(Format.Invariant($"[bold white]summary[/] [grey]{Format.Seconds2(result.Elapsed)} ·[/] {ending}")).LeftJustified().RuleStyle("grey23"));
        _console.MarkupLine(Format.Invariant(
            $"[bold]{t.Requests}[/] requests: [green]{t.Answered}[/] answered by the model asked, [yellow]{t.FellBack}[/] by a fallback model, [red]{t.Failed}[/] errors, {t.Unavailable} unavailable"));

        var table = new Table().Border(TableBorder.Rounded).BorderColor(Color.Grey23);
        foreach (string column in new[] { "circuit", "state", "calls", "ok", "failures", "rejected", "success rate", "opened", "longest open" })
        {
            table.AddColumn(column is "circuit" or "state" ? new TableColumn(column) : new TableColumn(column).RightAligned());
        }

        foreach (CircuitResult c in result.Circuits)
        {
            CircuitSummary s = c.Summary;
            table.AddRow(
                Markup.Escape(c.Name),
                State(s.State),
                Format.Number(s.TotalCalls),
                Format.Number(s.Successful),
                Format.Number(s.Failed),
                Format.Number(s.Rejected),
                Rate(s.SuccessRate),
                Format.Number(c.Opened),
                c.Opened > 0 ? Format.Seconds2(c.LongestOpen) : "[grey]-[/]");
        }

        _console.Write(table);
        foreach (FallbackRoute route in result.Fallbacks)
        {
            _console.MarkupLine(Format.Invariant(
                $"[yellow]↪[/] {route.Count} requests for [bold]{Markup.Escape(route.From)}[/] were answered by [bold]{Markup.Escape(route.To)}[/], e.g. “{Markup.Escape(route.SampleAnswer)}”"));
        }

        string retryAfter = Markup.Escape(SummaryText.RetryAfterLine(result.RetryAfter));
        _console.MarkupLine(result.RetryAfter.Honoured ? $"[green]✓[/] {retryAfter}" : $"[yellow]![/] {retryAfter}");

        _console.WriteLine();
        _console.Write(new Rule("[bold white]timeline[/] [grey]of the transitions[/]").LeftJustified().RuleStyle("grey23"));
        var timeline = new Table().Border(TableBorder.Simple).BorderColor(Color.Grey23).HideHeaders();
        timeline.AddColumn(new TableColumn("at").RightAligned());
        timeline.AddColumn("circuit");
        timeline.AddColumn("transition");
        timeline.AddColumn("cause");
        foreach (TransitionRecord tr in result.Timeline)
        {
            timeline.AddRow($"[grey]{Format.Offset(tr.At)}[/]", Markup.Escape(tr.Circuit), Transition(tr.From, tr.To), $"[grey]{Markup.Escape(tr.Cause)}[/]");
        }

        _console.Write(timeline);

        if (fleet is not null)
        {
            _console.Write(new Rule("[bold white]fleet[/] [grey]one trip, seen by every instance[/]").LeftJustified().RuleStyle("grey23"));
            foreach (string line in SummaryText.FleetLines(fleet))
            {
                _console.WriteLine(line);
            }
        }

        _console.MarkupLine(Format.Invariant($"[grey]Finished in {Format.Seconds2(result.Elapsed)}.[/]"));
    }

    public static string State(CircuitState state) => state switch
    {
        CircuitState.Closed => "[green]● closed[/]",
        CircuitState.Open => "[bold red]● open[/]",
        CircuitState.HalfOpen => "[bold yellow]◐ half-open[/]",
        _ => $"[magenta]● {state.ToDisplayName()}[/]",
    };

    private static string Transition(CircuitState from, CircuitState to) => $"{State(from)} → {State(to)}";

    private static string Cause(string cause) => cause.Length == 0 ? string.Empty : $" [grey]({Markup.Escape(cause)})[/]";

    private static string RetryIn(SkippedCircuit skipped)
        => skipped.State == CircuitState.Open ? $" [grey]retry in {Format.Seconds2(skipped.RetryAfter)}[/]" : " [grey]probe out[/]";

    private static string Rate(double rate) => rate switch
    {
        >= 0.95 => $"[green]{Format.Percent(rate)}[/]",
        >= 0.75 => $"[yellow]{Format.Percent(rate)}[/]",
        _ => $"[red]{Format.Percent(rate)}[/]",
    };

    private static string PhaseColor(int phase) => phase switch
    {
        1 => "green",
        2 => "red",
        3 => "yellow",
        _ => "deepskyblue1",
    };
}
