using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Tripswitch.Hosting.Tests.Configuration;

/// <summary>Reloads of a real JSON file (reloadOnChange) applied to a running registry.</summary>
public sealed class ReloadTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("tripswitch-hosting-").FullName;

    private string SettingsPath => Path.Combine(_directory, "appsettings.json");

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static string Json(
        string circuitOptions,
        string defaults = "\"RecoveryTimeout\": \"00:00:30\", \"SuccessThreshold\": 1",
        string critical = "\"openai/gpt-4.1\"",
        string logLevel = "Information")
        => $$"""
        {
          "Logging": { "LogLevel": { "Default": "{{logLevel}}" } },
          "Tripswitch": {
            "Defaults": { {{defaults}} },
            "Circuits": { "openai/gpt-4.1": { {{circuitOptions}} } },
            "Critical": [ {{critical}} ]
          }
        }
        """;

    /// <summary>Replaces the file's content in one step (a rename), so the watcher never reads a half-written file.</summary>
    private void WriteSettings(string json)
    {
        string temporary = Path.Combine(_directory, $"{Guid.NewGuid():N}.tmp");
        File.WriteAllText(temporary, json);
        File.Move(temporary, SettingsPath, overwrite: true);
    }

    private async Task<TestHost> StartAsync(string json)
    {
        WriteSettings(json);
        HostApplicationBuilder builder = TestHost.CreateBuilder();
        builder.Configuration.AddJsonFile(SettingsPath, optional: false, reloadOnChange: true);
        builder.Services.AddTripswitch(builder.Configuration.GetSection("Tripswitch"));
        builder.Services.AddHealthChecks().AddTripswitch();
        return await TestHost.StartAsync(builder);
    }

    /// <summary>Completes when IOptionsMonitor reports the next applied reload.</summary>
    private static Task<TripswitchOptions> NextReload(TestHost host)
    {
        var reloaded = new TaskCompletionSource<TripswitchOptions>(TaskCreationOptions.RunContinuationsAsynchronously);
        IDisposable? subscription = host.Services.GetRequiredService<IOptionsMonitor<TripswitchOptions>>().OnChange(o => reloaded.TrySetResult(o));
        return reloaded.Task.WaitAsync(TestHost.Timeout).ContinueWith(
            t =>
            {
                subscription?.Dispose();
                return t.Result;
            },
            TaskScheduler.Default);
    }

    [Fact]
    public async Task Reload_ThresholdChanged_OpenCircuitKeepsStateAndCountsThenUsesNewThreshold()
    {
        await using TestHost host = await StartAsync(Json("\"FailureThreshold\": 3"));
        CircuitBreaker gpt = host.Registry.Get("openai/gpt-4.1");
        Calls.Succeed(gpt, 2);
        Calls.Fail(gpt, 3);
        Assert.Equal(CircuitState.Open, gpt.State);
        Calls.Rejected(gpt);

        Task<TripswitchOptions> reload = NextReload(host);
        WriteSettings(Json("\"FailureThreshold\": 5"));
        TripswitchOptions reloaded = await reload;

        Assert.Equal(5, reloaded.OptionsFor("openai/gpt-4.1").FailureThreshold);
        CircuitSummary summary = gpt.GetSummary();
        Assert.Same(gpt, host.Registry.Get("openai/gpt-4.1"));
        Assert.Equal(CircuitState.Open, summary.State);
        Assert.Equal((2L, 3L, 1L, 3), (summary.Successful, summary.Failed, summary.Rejected, summary.ConsecutiveFailures));
        Assert.Equal(TimeSpan.FromSeconds(30), summary.RetryAfter); // the open period was not restarted
        Calls.Rejected(gpt);

        host.Time.Advance(TimeSpan.FromSeconds(30));
        Calls.Succeed(gpt); // the probe closes it (SuccessThreshold 1)
        Assert.Equal(CircuitState.Closed, gpt.State);
        Assert.Equal(5, Calls.FailuresToOpen(gpt)); // the new threshold
        Assert.Contains(host.Logs.TripswitchRecords, r => r.EventId.Name == "ConfigurationReloaded" && r.Level == LogLevel.Information);
    }

    [Fact]
    public async Task Reload_DefaultsChanged_AppliesToCircuitsCreatedBeforeAndAfter()
    {
        await using TestHost host = await StartAsync(Json("\"Mode\": \"Enabled\"", defaults: "\"FailureThreshold\": 2"));
        CircuitBreaker before = host.Registry.Get("before");

        Task<TripswitchOptions> reload = NextReload(host);
        WriteSettings(Json("\"Mode\": \"Enabled\"", defaults: "\"FailureThreshold\": 4"));
        await reload;

        Assert.Equal(4, Calls.FailuresToOpen(before));
        Assert.Equal(4, Calls.FailuresToOpen(host.Registry.Get("after")));
    }

    [Theory]
    [InlineData("\"FailureThreshold\": 0", "Circuit 'openai/gpt-4.1': CircuitBreakerOptions.FailureThreshold must be between 1 and 1000000; it was 0.")]
    [InlineData("\"FailureThreshhold\": 5", "Circuit 'openai/gpt-4.1': 'FailureThreshhold' (at 'Tripswitch:Circuits:openai/gpt-4.1:FailureThreshhold') is not an option")]
    [InlineData("\"FailureThreshold\": \"abc\"", "Circuit 'openai/gpt-4.1': CircuitBreakerOptions.FailureThreshold (at 'Tripswitch:Circuits:openai/gpt-4.1:FailureThreshold') must be a whole number; 'abc' is not.")]
    public async Task Reload_InvalidConfiguration_IsRejectedAndLoggedAndOldOptionsStay(string invalid, string expected)
    {
        await using TestHost host = await StartAsync(Json("\"FailureThreshold\": 3"));
        CircuitBreaker gpt = host.Registry.Get("openai/gpt-4.1");
        Calls.Fail(gpt, 2);
        IOptionsMonitor<TripswitchOptions> monitor = host.Services.GetRequiredService<IOptionsMonitor<TripswitchOptions>>();
        int monitorChanges = 0;
        using IDisposable? subscription = monitor.OnChange(_ => Interlocked.Increment(ref monitorChanges));

        WriteSettings(Json(invalid));
        LogRecord rejected = await host.Logs.WaitForAsync(r => r.EventId.Name == "ConfigurationReloadRejected", TestHost.Timeout);

        Assert.Equal(LogLevel.Error, rejected.Level);
        Assert.Equal("Tripswitch", rejected.Category);
        Assert.Contains(expected, rejected.Message, StringComparison.Ordinal);
        Assert.Null(rejected.Exception); // the message says it all; no stack trace
        Assert.Equal(0, Volatile.Read(ref monitorChanges));
        Assert.Equal(3, monitor.CurrentValue.OptionsFor("openai/gpt-4.1").FailureThreshold);
        Calls.Fail(gpt); // the third failure still opens it: the old threshold stays
        Assert.Equal(CircuitState.Open, gpt.State);

        // A later valid reload is applied as usual.
        Task<TripswitchOptions> reload = NextReload(host);
        WriteSettings(Json("\"FailureThreshold\": 7"));
        Assert.Equal(7, (await reload).OptionsFor("openai/gpt-4.1").FailureThreshold);
        Assert.Equal(CircuitState.Open, gpt.State);
    }

    [Theory]
    [InlineData("CountWindow", "\"FailureRatio\": 0.9, \"MinimumThroughput\": 10", "\"FailureRatio\": 0.5, \"MinimumThroughput\": 10")]
    [InlineData("TimeWindow", "\"FailureRatio\": 0.9, \"MinimumThroughput\": 10", "\"FailureRatio\": 0.5, \"MinimumThroughput\": 10")]
    [InlineData("CountWindow", "\"FailureRatio\": 0.5, \"MinimumThroughput\": 20", "\"FailureRatio\": 0.5, \"MinimumThroughput\": 10")]
    [InlineData("TimeWindow", "\"FailureRatio\": 0.5, \"MinimumThroughput\": 20", "\"FailureRatio\": 0.5, \"MinimumThroughput\": 10")]
    public async Task Reload_ThresholdsOnly_KeepsTheWindowsCallsAndJudgesThemByTheNewThresholds(string rule, string before, string after)
    {
        string Circuit(string thresholds) => $"\"Rule\": \"{rule}\", \"WindowSize\": 20, {thresholds}";
        await using TestHost host = await StartAsync(Json(Circuit(before)));
        CircuitBreaker gpt = host.Registry.Get("openai/gpt-4.1");
        Calls.Succeed(gpt, 5);
        Calls.Fail(gpt, 4);

        Task<TripswitchOptions> reload = NextReload(host);
        WriteSettings(Json(Circuit(after)));
        await reload;
        Calls.Fail(gpt); // 5 failures in 10 calls: enough for the new thresholds, only if the 9 calls before the reload still count

        Assert.Equal(CircuitState.Open, gpt.State);
    }

    [Fact]
    public async Task Reload_WindowSizeChanged_StartsANewWindow()
    {
        const string Thresholds = "\"Rule\": \"CountWindow\", \"MinimumThroughput\": 10, \"FailureRatio\": 0.5";
        await using TestHost host = await StartAsync(Json($"{Thresholds}, \"WindowSize\": 20"));
        CircuitBreaker gpt = host.Registry.Get("openai/gpt-4.1");
        Calls.Succeed(gpt, 5);
        Calls.Fail(gpt, 4);

        Task<TripswitchOptions> reload = NextReload(host);
        WriteSettings(Json($"{Thresholds}, \"WindowSize\": 30"));
        await reload;
        Calls.Fail(gpt); // the new window holds one call: below the minimum

        Assert.Equal(CircuitState.Closed, gpt.State);
    }

    [Fact]
    public async Task Reload_CriticalListChanged_HealthCheckUsesTheNewList()
    {
        await using TestHost host = await StartAsync(Json("\"FailureThreshold\": 1"));
        Calls.Fail(host.Registry.Get("openai/gpt-4.1"));
        Calls.Fail(host.Registry.Get("openai/o3"), 5);
        HealthCheckService health = host.Services.GetRequiredService<HealthCheckService>();
        Assert.Equal(HealthStatus.Unhealthy, (await health.CheckHealthAsync(TestContext.Current.CancellationToken)).Status);

        Task<TripswitchOptions> reload = NextReload(host);
        WriteSettings(Json("\"FailureThreshold\": 1", critical: "\"openai/o4\""));
        await reload;
        Assert.Equal(HealthStatus.Degraded, (await health.CheckHealthAsync(TestContext.Current.CancellationToken)).Status);

        reload = NextReload(host);
        WriteSettings(Json("\"FailureThreshold\": 1", critical: "\"openai/o3\""));
        await reload;
        Assert.Equal(HealthStatus.Unhealthy, (await health.CheckHealthAsync(TestContext.Current.CancellationToken)).Status);
    }

    [Fact]
    public async Task Reload_OnlyOtherSectionsChanged_CircuitsAreNotReconfigured()
    {
        // In-memory configuration reloaded on this thread: the reload callbacks have all run when Reload() returns.
        HostApplicationBuilder builder = TestHost.CreateBuilder(new Dictionary<string, string?> { ["Tripswitch:Defaults:FailureThreshold"] = "3" });
        builder.Services.AddTripswitch(builder.Configuration.GetSection("Tripswitch"));
        await using TestHost host = await TestHost.StartAsync(builder);
        var configuration = (IConfigurationRoot)host.Services.GetRequiredService<IConfiguration>();
        CircuitBreaker breaker = host.Registry.Get("a");

        configuration["Unrelated:Setting"] = "changed";
        configuration.Reload();
        Assert.DoesNotContain(host.Logs.TripswitchRecords, r => r.EventId.Name == "ConfigurationReloaded");

        configuration["Tripswitch:Defaults:FailureThreshold"] = "4";
        configuration.Reload();
        LogRecord applied = Assert.Single(host.Logs.TripswitchRecords, r => r.EventId.Name == "ConfigurationReloaded");
        Assert.Equal("Tripswitch configuration reloaded: 1 existing circuit(s) reconfigured, keeping their state and counts.", applied.Message);
        Assert.Equal(4, Calls.FailuresToOpen(breaker));
    }

    [Fact]
    public async Task Reload_InvalidValue_NothingIsThrownIntoTheConfigurationSystem()
    {
        HostApplicationBuilder builder = TestHost.CreateBuilder(new Dictionary<string, string?> { ["Tripswitch:Circuits:a:FailureThreshold"] = "2" });
        builder.Services.AddTripswitch(builder.Configuration.GetSection("Tripswitch"));
        await using TestHost host = await TestHost.StartAsync(builder);
        var configuration = (IConfigurationRoot)host.Services.GetRequiredService<IConfiguration>();
        IOptionsMonitor<TripswitchOptions> monitor = host.Services.GetRequiredService<IOptionsMonitor<TripswitchOptions>>();
        CircuitBreaker breaker = host.Registry.Get("a");

        configuration["Tripswitch:Circuits:a:FailureThreshold"] = "-1";
        Exception? thrown = Record.Exception(configuration.Reload);

        Assert.Null(thrown);
        LogRecord rejected = Assert.Single(host.Logs.TripswitchRecords, r => r.Level == LogLevel.Error);
        Assert.Equal(
            "Tripswitch configuration reload rejected; the circuits keep their previous options. Circuit 'a': CircuitBreakerOptions.FailureThreshold must be between 1 and 1000000; it was -1.",
            rejected.Message);
        Assert.Equal(2, monitor.CurrentValue.OptionsFor("a").FailureThreshold); // the monitor never saw the invalid options
        Assert.Equal(2, Calls.FailuresToOpen(breaker));
    }
}
