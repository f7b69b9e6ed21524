using Microsoft.Extensions.Time.Testing;
using Tripswitch.FakeLlm;
using Tripswitch.Samples.OpenAI;
using Xunit;

namespace Tripswitch.Samples.Tests.OpenAI;

/// <summary>The sample's walkthrough, run as the sample runs it but on fake time (its waits advance the clock).</summary>
public sealed class SeedWalkthroughTests
{
    [Fact]
    public async Task Walkthrough_OpensOnServerErrors_HonoursTheRateLimit_AndRecovers()
    {
        var time = new FakeTimeProvider();
        await using FakeLlmServer server = await FakeLlmServer.StartAsync(cancellationToken: TestContext.Current.CancellationToken);
        using var output = new StringWriter();
        var walkthrough = new SeedWalkthrough(server, output, time, (delay, _) =>
        {
            time.Advance(delay);
            return Task.CompletedTask;
        });

        CircuitSummary summary = await walkthrough.RunAsync(TestContext.Current.CancellationToken);
        string[] lines = output.ToString().Split(Environment.NewLine);

        // The seed's loop: 2 answers, 5 errors (the 5th opens the circuit), 3 fallbacks that never reach the server.
        Assert.Contains("Request 1: closed - Hello! How can I help you today?...", lines);
        Assert.Contains(lines, l => l.StartsWith("Request 3: closed - Error: HTTP 500", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("Request 7: open - Error: HTTP 500", StringComparison.Ordinal));
        Assert.Contains("Request 8: open - Service temporarily unavailable. Circuit 'openai/g...", lines);
        Assert.Contains("FakeLlm received 7 of the 10 requests; the circuit answered the other 3 itself.", lines);

        // The 429's 3 s outlast the 2 s recovery timeout: 2.1 s later the circuit still answers for the server.
        Assert.Contains(lines, l => l.StartsWith("Probe:      open - Error: HTTP 429", StringComparison.Ordinal));
        Assert.Contains("Request:    open - Service temporarily unavailable. Circuit 'openai/gpt-4.1' is open. Retry after 0.9s", lines);

        // Recovery: two successful probes close it.
        Assert.Contains("Request 1: half_open - Hello again! Back in service.", lines);
        Assert.Contains("Request 2: closed - Hello again! Back in service.", lines);
        Assert.Equal(
            ["closed -> open", "open -> half_open", "half_open -> open", "open -> half_open", "half_open -> closed"],
            lines.Where(l => l.StartsWith("           circuit ", StringComparison.Ordinal)).Select(l => l["           circuit ".Length..]));

        Assert.Equal(CircuitState.Closed, summary.State);
        Assert.Equal(5, summary.Successful);
        Assert.Equal(6, summary.Failed);
        Assert.Equal(4, summary.Rejected);
        Assert.Equal(11, server.Model(SeedWalkthrough.Model).Requests);
    }
}
