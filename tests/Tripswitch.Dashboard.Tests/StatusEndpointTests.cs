using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Tripswitch.Dashboard.Tests.Infrastructure;

namespace Tripswitch.Dashboard.Tests;

public class StatusEndpointTests
{
    [Fact]
    public async Task Status_EveryCircuit_HasItsSummaryAndTimeUntilRetry()
    {
        FakeTimeProvider clock = TestBreakers.Clock();
        CircuitBreakerRegistry registry = TestBreakers.Registry(clock, o => { o.FailureThreshold = 3; o.RecoveryTimeout = TimeSpan.FromSeconds(30); });
        registry.Succeed("b/closed", 3);
        registry.Fail("b/closed");
        registry.Fail("a/open", 5); // 3 failures open it, 2 calls are rejected
        registry.Get("c/isolated").Isolate();
        clock.Advance(TimeSpan.FromSeconds(12));
        await using DashboardServer server = await DashboardServer.StartAsync(
            map: app => app.MapTripswitchDashboard("/tripswitch", o => { o.Registry = registry; o.TimeProvider = clock; }));

        using HttpResponseMessage response = await server.Client.GetAsync("tripswitch/status", TestContext.Current.CancellationToken);
        string body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json; charset=utf-8", response.Content.Headers.ContentType?.ToString());
        Assert.True(response.Headers.CacheControl?.NoStore);
        JsonElement root = JsonDocument.Parse(body).RootElement;
        Assert.Equal(TestBreakers.Start.AddSeconds(12), root.GetProperty("generatedAt").GetDateTimeOffset());
        JsonElement[] circuits = [.. root.GetProperty("circuits").EnumerateArray()];
        Assert.Equal(["a/open", "b/closed", "c/isolated"], circuits.Select(c => c.GetProperty("name").GetString()));

        JsonElement open = circuits[0];
        Assert.Equal("Open", open.GetProperty("state").GetString());
        Assert.Equal(3, open.GetProperty("consecutiveFailures").GetInt32());
        Assert.Equal(5, open.GetProperty("totalCalls").GetInt64());
        Assert.Equal(0, open.GetProperty("successful").GetInt64());
        Assert.Equal(3, open.GetProperty("failed").GetInt64());
        Assert.Equal(2, open.GetProperty("rejected").GetInt64());
        Assert.Equal(0, open.GetProperty("ignored").GetInt64());
        Assert.Equal(0, open.GetProperty("slowCalls").GetInt64());
        Assert.Equal(0, open.GetProperty("shadowRejected").GetInt64());
        Assert.Equal(0.0, open.GetProperty("successRate").GetDouble());
        Assert.Equal(18.0, open.GetProperty("retryAfterSeconds").GetDouble());
        Assert.Equal(1, open.GetProperty("stateChanges").GetInt64());
        JsonElement trip = Assert.Single(open.GetProperty("transitions").EnumerateArray());
        Assert.Equal("a/open", trip.GetProperty("circuit").GetString());
        Assert.Equal("Closed", trip.GetProperty("from").GetString());
        Assert.Equal("Open", trip.GetProperty("to").GetString());
        Assert.Equal(TestBreakers.Start, trip.GetProperty("at").GetDateTimeOffset());
        Assert.Equal("System.TimeoutException", trip.GetProperty("cause").GetString());
        Assert.Equal(trip.GetRawText(), open.GetProperty("lastTransition").GetRawText());

        JsonElement closed = circuits[1];
        Assert.Equal("Closed", closed.GetProperty("state").GetString());
        Assert.Equal(1, closed.GetProperty("consecutiveFailures").GetInt32());
        Assert.Equal(0.75, closed.GetProperty("successRate").GetDouble());
        Assert.Equal(0.0, closed.GetProperty("retryAfterSeconds").GetDouble());
        Assert.Empty(closed.GetProperty("transitions").EnumerateArray());
        Assert.False(closed.TryGetProperty("lastTransition", out _));

        JsonElement isolated = circuits[2];
        Assert.Equal("Isolated", isolated.GetProperty("state").GetString());
        Assert.Equal(JsonValueKind.Null, isolated.GetProperty("retryAfterSeconds").ValueKind); // until reset
        Assert.False(isolated.GetProperty("transitions")[0].TryGetProperty("cause", out _));

        // Only the exception's type is shown: its message may carry secrets.
        Assert.DoesNotContain("secret-token-123", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Status_RegistryAndClockFromServices_AreUsed()
    {
        var clock = new FakeTimeProvider(TestBreakers.Start.AddHours(1));
        CircuitBreakerRegistry registry = TestBreakers.Registry(clock, o => { o.FailureThreshold = 3; o.RecoveryTimeout = TimeSpan.FromSeconds(30); });
        registry.Succeed("from-di");
        await using DashboardServer server = await DashboardServer.StartAsync(configure: b =>
        {
            b.Services.AddSingleton(registry);
            b.Services.AddSingleton<TimeProvider>(clock);
        });

        JsonElement root = await GetJsonAsync(server, "tripswitch/status");

        Assert.Equal("from-di", Assert.Single(root.GetProperty("circuits").EnumerateArray()).GetProperty("name").GetString());
        Assert.Equal(clock.GetUtcNow(), root.GetProperty("generatedAt").GetDateTimeOffset());
    }

    [Fact]
    public async Task Status_ExplicitRegistry_WinsOverTheOneInServices()
    {
        CircuitBreakerRegistry inServices = TestBreakers.Registry(TestBreakers.Clock(), o => { o.FailureThreshold = 3; o.RecoveryTimeout = TimeSpan.FromSeconds(30); });
        inServices.Succeed("in-services");
        CircuitBreakerRegistry explicitRegistry = TestBreakers.Registry(TestBreakers.Clock(), o => { o.FailureThreshold = 3; o.RecoveryTimeout = TimeSpan.FromSeconds(30); });
        explicitRegistry.Succeed("explicit");
        await using DashboardServer server = await DashboardServer.StartAsync(
            configure: b => b.Services.AddSingleton(inServices),
            map: app => app.MapTripswitchDashboard("/explicit", explicitRegistry));

        JsonElement root = await GetJsonAsync(server, "explicit/status");

        Assert.Equal("explicit", Assert.Single(root.GetProperty("circuits").EnumerateArray()).GetProperty("name").GetString());
    }

    [Fact]
    public async Task Status_EmptyRegistry_ListsNoCircuit()
    {
        await using DashboardServer server = await DashboardServer.StartAsync(configure: b => b.Services.AddSingleton(new CircuitBreakerRegistry()));

        JsonElement root = await GetJsonAsync(server, "tripswitch/status");

        Assert.Empty(root.GetProperty("circuits").EnumerateArray());
    }

    [Fact]
    public async Task Map_CustomPattern_ExposesNothingElsewhere()
    {
        CircuitBreakerRegistry registry = TestBreakers.Registry(TestBreakers.Clock(), o => { o.FailureThreshold = 3; o.RecoveryTimeout = TimeSpan.FromSeconds(30); });
        await using DashboardServer server = await DashboardServer.StartAsync(map: app => app.MapTripswitchDashboard("/ops/circuits", registry));
        CancellationToken ct = TestContext.Current.CancellationToken;

        using HttpResponseMessage status = await server.Client.GetAsync("ops/circuits/status", ct);
        using HttpResponseMessage page = await server.Client.GetAsync("ops/circuits", ct);
        using HttpResponseMessage pageWithSlash = await server.Client.GetAsync("ops/circuits/", ct);
        using HttpResponseMessage defaultPath = await server.Client.GetAsync("tripswitch/status", ct);
        using HttpResponseMessage post = await server.Client.PostAsync("ops/circuits/status", content: null, ct);

        Assert.Equal(HttpStatusCode.OK, status.StatusCode);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal(HttpStatusCode.OK, pageWithSlash.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, defaultPath.StatusCode);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, post.StatusCode); // read-only
    }

    [Fact]
    public async Task Map_NoRegistryAnywhere_ThrowsSayingHowToFixIt()
    {
        WebApplicationBuilder builder = WebApplication.CreateBuilder();
        await using WebApplication app = builder.Build();

        InvalidOperationException error = Assert.Throws<InvalidOperationException>(() => app.MapTripswitchDashboard());

        Assert.Contains("CircuitBreakerRegistry", error.Message, StringComparison.Ordinal);
        Assert.Contains("Tripswitch.Hosting", error.Message, StringComparison.Ordinal);
        Assert.Contains("AddTripswitch", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("AddSingleton", error.Message, StringComparison.Ordinal); // the host refuses a registry registered beside AddTripswitch
    }

    private static async Task<JsonElement> GetJsonAsync(DashboardServer server, string path)
    {
        using HttpResponseMessage response = await server.Client.GetAsync(path, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).RootElement;
    }
}
