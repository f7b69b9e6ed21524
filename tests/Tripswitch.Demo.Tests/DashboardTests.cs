using System.Text.Json;
using Tripswitch.Demo.Tests.Infrastructure;

namespace Tripswitch.Demo.Tests;

/// <summary><c>--dashboard</c> serves Tripswitch.Dashboard for the demo's circuits while the scenario runs.</summary>
public sealed class DashboardTests
{
    [Fact]
    public async Task Dashboard_ServesTheCircuitsWhileTheScenarioRuns_AndTheRunEndsWithoutAKeyboard()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(20) };
        var status = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);

        DemoRun run = await DemoProcess.RunAsync(["--dashboard", "--duration", "5"], DemoProcess.DefaultTimeout, async line =>
        {
            const string Prefix = "Dashboard: ";
            if (line.StartsWith(Prefix, StringComparison.Ordinal))
            {
                string url = line[Prefix.Length..].Split(' ')[0];
                try
                {
                    status.TrySetResult(await http.GetStringAsync(new Uri(url + "/status")));
                }
                catch (HttpRequestException e)
                {
                    status.TrySetException(e);
                }
            }
        });

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Matches(@"Dashboard: http://127\.0\.0\.1:\d+/tripswitch \(JSON: http://127\.0\.0\.1:\d+/tripswitch/status\)", run.Stdout);
        Assert.True(status.Task.IsCompleted, run.ToString());
        using JsonDocument json = JsonDocument.Parse(await status.Task);
        Assert.Equal(
            ["openai/gpt-4.1", "openai/gpt-4.1-mini", "openai/gpt-4o-mini"],
            json.RootElement.GetProperty("circuits").EnumerateArray().Select(c => c.GetProperty("name").GetString()));
    }
}
