using Tripswitch.Demo.Tests.Infrastructure;

namespace Tripswitch.Demo.Tests;

/// <summary>Without a terminal (output redirected, as in CI or a pipe) the demo prints plain lines, not a live view.</summary>
public sealed class PlainOutputTests
{
    [Fact]
    public async Task WithoutATerminal_PrintsPhasesTransitionsAndFallbacksAsTheyHappen_ThenSummaryAndTimeline()
    {
        DemoRun run = await DemoProcess.RunAsync("--duration", "6");

        Assert.True(run.ExitCode == 0, run.ToString());
        string[] lines = run.Stdout.Split('\n', StringSplitOptions.TrimEntries);

        Assert.StartsWith("Tripswitch live demo (seed 7, 6s, 6 simulated users)", lines[0], StringComparison.Ordinal);
        Assert.DoesNotContain('\u001b', run.Stdout); // no ANSI escapes, no cursor movement

        // As they happen: phases, transitions (with their cause), the first error and fallback answers.
        int outage = Index(lines, "phase 2/4 Outage: gpt-4.1 fails with HTTP 500");
        int trip = Index(lines, "circuit openai/gpt-4.1: closed → open (HTTP 500)");
        int fallback = Index(lines, "fallback: user ", "asked gpt-4.1; circuit openai/gpt-4.1 is open", "so gpt-4.1-mini answered: \"Hello from gpt-4.1-mini.\"");
        int rateLimit = Index(lines, "phase 3/4 Rate limit: gpt-4.1-mini answers 429, Retry-After: 2s");
        int limited = Index(lines, "circuit openai/gpt-4.1-mini: closed → open (HTTP 429)");
        int recovery = Index(lines, "phase 4/4 Recovery");
        Assert.True(outage < trip && trip < fallback && fallback < rateLimit && rateLimit < limited && limited < recovery, run.Stdout);
        Assert.Contains(lines, l => l.Contains("error: user ", StringComparison.Ordinal) && l.Contains("HTTP 500 Internal Server Error", StringComparison.Ordinal));

        // Then the summary and the timeline.
        int summary = Index(lines, "Summary (");
        int timeline = Index(lines, "Timeline (relative to the start):");
        Assert.True(recovery < summary && summary < timeline, run.Stdout);
        Assert.Contains(lines, l => l.StartsWith("Retry-After honoured: openai/gpt-4.1-mini stayed open", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("fallback: ", StringComparison.Ordinal) && l.Contains("requests for gpt-4.1 were answered by gpt-4.1-mini", StringComparison.Ordinal));
        Assert.Contains(lines.Skip(timeline), l => l.Contains("openai/gpt-4.1", StringComparison.Ordinal) && l.Contains("half-open → closed", StringComparison.Ordinal));
        Assert.StartsWith("Finished in ", lines.Last(l => l.Length > 0), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Exercise_RunsTheSeedsHandsOnExercise()
    {
        DemoRun run = await DemoProcess.RunAsync("--exercise");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.StartsWith("Tripswitch demo: the circuit-breaker hands-on exercise (seed 25)", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("Circuit: closed → open", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("Circuit: half-open → closed", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("Timeline (relative to the start):", run.Stdout, StringComparison.Ordinal);
    }

    /// <summary>The index of the first line that contains every part (fails with the whole output when there is none).</summary>
    private static int Index(string[] lines, params string[] parts)
    {
        int index = Array.FindIndex(lines, l => parts.All(p => l.Contains(p, StringComparison.Ordinal)));
        Assert.True(index >= 0, $"No line contains {string.Join(" … ", parts)}:\n{string.Join('\n', lines)}");
        return index;
    }
}
