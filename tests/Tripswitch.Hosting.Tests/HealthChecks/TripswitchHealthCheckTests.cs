using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;

namespace Tripswitch.Hosting.Tests.HealthChecks;

public class TripswitchHealthCheckTests
{
    private static async Task<TestHost> StartAsync(HealthStatus? failureStatus = null)
    {
        HostApplicationBuilder builder = TestHost.CreateBuilder(new Dictionary<string, string?>
        {
            ["Tripswitch:Defaults:FailureThreshold"] = "1",
            ["Tripswitch:Defaults:RecoveryTimeout"] = "00:00:10",
            ["Tripswitch:Critical:0"] = "openai/gpt-4.1",
        });
        builder.Services.AddTripswitch(builder.Configuration.GetSection("Tripswitch"))
            .Configure(o => o.Critical.Add("db")); // critical from code too
        builder.Services.AddHealthChecks().AddTripswitch(failureStatus: failureStatus, tags: ["ready"]);
        return await TestHost.StartAsync(builder);
    }

    private static async Task<HealthReportEntry> CheckAsync(TestHost host, bool expectTags = true)
    {
        HealthReport report = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync(TestContext.Current.CancellationToken);
        (string name, HealthReportEntry entry) = Assert.Single(report.Entries);
        Assert.Equal(TripswitchHealthChecksBuilderExtensions.DefaultName, name);
        Assert.Equal(expectTags ? ["ready"] : [], entry.Tags);
        return entry;
    }

    [Fact]
    public async Task CheckHealth_EveryCircuitClosed_Healthy()
    {
        await using TestHost host = await StartAsync();
        Calls.Succeed(host.Registry.Get("openai/gpt-4.1"));
        Calls.Succeed(host.Registry.Get("other"));

        HealthReportEntry entry = await CheckAsync(host);

        Assert.Equal(HealthStatus.Healthy, entry.Status);
        Assert.Equal("All 2 circuit(s) are closed.", entry.Description);
        Assert.Empty(entry.Data);
    }

    [Fact]
    public async Task CheckHealth_NonCriticalOpenOrHalfOpen_DegradedNamingThem()
    {
        await using TestHost host = await StartAsync();
        Calls.Succeed(host.Registry.Get("openai/gpt-4.1"));
        Calls.Fail(host.Registry.Get("anthropic/claude"));
        host.Time.Advance(TimeSpan.FromSeconds(5));
        Calls.Fail(host.Registry.Get("mistral/large"));
        host.Time.Advance(TimeSpan.FromSeconds(5)); // claude's open period is over: half-open

        HealthReportEntry entry = await CheckAsync(host);

        Assert.Equal(HealthStatus.Degraded, entry.Status);
        Assert.Equal("2 of 3 circuit(s) not closed: anthropic/claude (HalfOpen), mistral/large (Open).", entry.Description);
        Assert.Equal("HalfOpen", entry.Data["anthropic/claude"]);
        Assert.Equal("Open", entry.Data["mistral/large"]);
        Assert.False(entry.Data.ContainsKey("openai/gpt-4.1"));
    }

    [Fact]
    public async Task CheckHealth_CriticalCircuitOpen_Unhealthy()
    {
        await using TestHost host = await StartAsync();
        Calls.Fail(host.Registry.Get("openai/gpt-4.1"));
        Calls.Fail(host.Registry.Get("other"));

        HealthReportEntry entry = await CheckAsync(host);

        Assert.Equal(HealthStatus.Unhealthy, entry.Status);
        Assert.Equal("Critical circuit(s) down: openai/gpt-4.1. 2 of 2 circuit(s) not closed: openai/gpt-4.1 (Open), other (Open).", entry.Description);
        Assert.Equal(["openai/gpt-4.1"], Assert.IsType<string[]>(entry.Data["critical"]));
        Assert.Equal("Open", entry.Data["openai/gpt-4.1"]);
    }

    [Fact]
    public async Task CheckHealth_CriticalFromCodeIsolated_UsesTheRegistrationsFailureStatus()
    {
        await using TestHost host = await StartAsync(failureStatus: HealthStatus.Degraded);
        host.Registry.Get("db").Isolate();

        HealthReportEntry entry = await CheckAsync(host);

        Assert.Equal(HealthStatus.Degraded, entry.Status);
        Assert.StartsWith("Critical circuit(s) down: db.", entry.Description, StringComparison.Ordinal);
        Assert.Equal("Isolated", entry.Data["db"]);
    }

    [Fact]
    public async Task CheckHealth_CriticalCircuitHalfOpen_DegradedNotUnhealthy()
    {
        await using TestHost host = await StartAsync();
        Calls.Fail(host.Registry.Get("openai/gpt-4.1"));
        Assert.Equal(HealthStatus.Unhealthy, (await CheckAsync(host)).Status);

        host.Time.Advance(TimeSpan.FromSeconds(10));
        HealthReportEntry probing = await CheckAsync(host);

        Assert.Equal(HealthStatus.Degraded, probing.Status);
        Assert.Equal("HalfOpen", probing.Data["openai/gpt-4.1"]);
        Assert.False(probing.Data.ContainsKey("critical"));
    }

    [Fact]
    public async Task AddTripswitch_HealthCheckWithoutAddTripswitch_RegistersTheRegistry()
    {
        HostApplicationBuilder builder = TestHost.CreateBuilder();
        builder.Services.AddHealthChecks().AddTripswitch();
        await using TestHost host = await TestHost.StartAsync(builder);

        Calls.Fail(host.Registry.Get("a"), 5); // the registry's default threshold
        HealthReportEntry entry = await CheckAsync(host, expectTags: false);

        Assert.Equal(HealthStatus.Degraded, entry.Status);
    }
}
