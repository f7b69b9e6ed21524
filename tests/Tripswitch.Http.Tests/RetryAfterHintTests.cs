using System.Globalization;
using System.Net;
using Microsoft.Extensions.Time.Testing;
using Tripswitch.Http.Tests.Infrastructure;
using Xunit;

namespace Tripswitch.Http.Tests;

/// <summary>
/// Rate-limit headers of real responses keep the circuit open as long as the server asked (the later of the computed
/// period and the hint, capped by MaxRecoveryTimeout); malformed ones are ignored. The breakers run on fake time that
/// stands still while the real requests run, so every deadline is exact.
/// </summary>
public sealed class RetryAfterHintTests
{
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(1);
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero));

    public static TheoryData<int, string, string, double> Hints => new()
    {
        { 429, "Retry-After", "30", 30 },
        { 503, "Retry-After", "45", 45 },
        { 429, "retry-after-ms", "12500", 12.5 },
        { 429, "x-ratelimit-reset-requests", "6m0s", 360 },
        { 429, "x-ratelimit-reset-tokens", "1m30.5s", 90.5 },
        { 429, "x-ratelimit-reset-requests", "20", 20 },
    };

    [Theory]
    [MemberData(nameof(Hints))]
    public async Task Hint_KeepsTheCircuitOpenThatLong(int status, string header, string value, double expectedSeconds)
    {
        await using ScriptedServer server = await ScriptedServer.StartAsync();
        server.Respond(status, (header, value));
        using var client = new BreakerClient(_time);

        (await client.GetAsync(server)).Dispose();

        await AssertOpenForAsync(client, server, TimeSpan.FromSeconds(expectedSeconds));
    }

    [Fact]
    public async Task RetryAfterHttpDate_IsMeasuredAgainstTheBreakersClock()
    {
        await using ScriptedServer server = await ScriptedServer.StartAsync();
        DateTimeOffset twoMinutesLater = _time.GetUtcNow().AddMinutes(2);
        server.Respond(429, ("Retry-After", twoMinutesLater.ToString("r", CultureInfo.InvariantCulture)));
        using var client = new BreakerClient(_time);

        (await client.GetAsync(server)).Dispose();

        await AssertOpenForAsync(client, server, TimeSpan.FromMinutes(2));
    }

    [Fact]
    public async Task RetryAfterHttpDateInThePast_LeavesTheNormalPeriod()
    {
        await using ScriptedServer server = await ScriptedServer.StartAsync();
        server.Respond(503, ("Retry-After", _time.GetUtcNow().AddHours(-1).ToString("r", CultureInfo.InvariantCulture)));
        using var client = new BreakerClient(_time);

        (await client.GetAsync(server)).Dispose();

        await AssertOpenForAsync(client, server, BreakerClient.Recovery);
    }

    [Fact]
    public async Task ExhaustedRateLimit_DecidesAmongSeveralResets()
    {
        await using ScriptedServer server = await ScriptedServer.StartAsync();
        server.Respond(
            429,
            ("x-ratelimit-remaining-requests", "0"),
            ("x-ratelimit-reset-requests", "45s"),
            ("x-ratelimit-remaining-tokens", "12000"),
            ("x-ratelimit-reset-tokens", "2m0s"));
        using var client = new BreakerClient(_time);

        (await client.GetAsync(server)).Dispose();

        await AssertOpenForAsync(client, server, TimeSpan.FromSeconds(45));
    }

    [Fact]
    public async Task TwoExhaustedRateLimits_OpenUntilTheLaterReset()
    {
        await using ScriptedServer server = await ScriptedServer.StartAsync();
        server.Respond(
            429,
            ("x-ratelimit-remaining-requests", "0"),
            ("x-ratelimit-reset-requests", "45s"),
            ("x-ratelimit-remaining-tokens", "0"),
            ("x-ratelimit-reset-tokens", "2m0s"));
        using var client = new BreakerClient(_time);

        (await client.GetAsync(server)).Dispose();

        await AssertOpenForAsync(client, server, TimeSpan.FromMinutes(2));
    }

    [Fact]
    public async Task MillisecondHeader_WinsOverRetryAfter()
    {
        await using ScriptedServer server = await ScriptedServer.StartAsync();
        server.Respond(429, ("Retry-After", "60"), ("retry-after-ms", "7250"));
        using var client = new BreakerClient(_time);

        (await client.GetAsync(server)).Dispose();

        await AssertOpenForAsync(client, server, TimeSpan.FromMilliseconds(7250));
    }

    [Fact]
    public async Task HintShorterThanTheRecoveryTimeout_DoesNotShortenIt()
    {
        await using ScriptedServer server = await ScriptedServer.StartAsync();
        server.Respond(429, ("Retry-After", "1"));
        using var client = new BreakerClient(_time);

        (await client.GetAsync(server)).Dispose();

        await AssertOpenForAsync(client, server, BreakerClient.Recovery);
    }

    [Theory]
    [InlineData("Retry-After", "soon")]
    [InlineData("Retry-After", "-30")]
    [InlineData("Retry-After", "99999999999999999999")]
    [InlineData("retry-after-ms", "-5")]
    [InlineData("retry-after-ms", "NaN")]
    [InlineData("x-ratelimit-reset-requests", "5x")]
    [InlineData("x-ratelimit-reset-tokens", "-1s")]
    public async Task MalformedHint_IsIgnored_TheNormalRecoveryTimeoutApplies(string header, string value)
    {
        await using ScriptedServer server = await ScriptedServer.StartAsync();
        server.Respond(429, (header, value));
        using var client = new BreakerClient(_time);

        using (HttpResponseMessage response = await client.GetAsync(server))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode); // nothing thrown
        }

        await AssertOpenForAsync(client, server, BreakerClient.Recovery);
    }

    [Fact]
    public async Task MalformedRetryAfterMs_FallsBackToAValidRetryAfter()
    {
        await using ScriptedServer server = await ScriptedServer.StartAsync();
        server.Respond(429, ("retry-after-ms", "-5"), ("Retry-After", "20"));
        using var client = new BreakerClient(_time);

        (await client.GetAsync(server)).Dispose();

        await AssertOpenForAsync(client, server, TimeSpan.FromSeconds(20));
    }

    [Fact]
    public async Task HintOfTenYears_IsCappedByMaxRecoveryTimeout()
    {
        await using ScriptedServer server = await ScriptedServer.StartAsync();
        server.Respond(429, ("Retry-After", ((long)TimeSpan.FromDays(3650).TotalSeconds).ToString(CultureInfo.InvariantCulture)));
        using var client = new BreakerClient(_time, options => options.MaxRecoveryTimeout = TimeSpan.FromMinutes(10));

        (await client.GetAsync(server)).Dispose();

        await AssertOpenForAsync(client, server, TimeSpan.FromMinutes(10));
    }

    [Fact]
    public async Task HintOfTenYears_WithTheDefaultCap_OpensForTenMinutes()
    {
        await using ScriptedServer server = await ScriptedServer.StartAsync();
        server.Respond(429, ("x-ratelimit-reset-requests", "87600h"));
        using var client = new BreakerClient(_time);

        (await client.GetAsync(server)).Dispose();

        await AssertOpenForAsync(client, server, TimeSpan.FromMinutes(10));
    }

    [Fact]
    public async Task HintOnASuccessfulResponse_IsIgnored()
    {
        await using ScriptedServer server = await ScriptedServer.StartAsync();
        server.Respond(200, ("Retry-After", "600"));
        using var client = new BreakerClient(_time);
        (await client.GetAsync(server)).Dispose();

        server.Respond(500);
        (await client.GetAsync(server)).Dispose();

        await AssertOpenForAsync(client, server, BreakerClient.Recovery);
    }

    [Fact]
    public async Task HintFromAFailureThatDidNotTrip_StillExtendsTheNextOpenPeriod()
    {
        await using ScriptedServer server = await ScriptedServer.StartAsync();
        using var client = new BreakerClient(_time, options => options.FailureThreshold = 2);

        server.Respond(429, ("Retry-After", "40"));
        (await client.GetAsync(server)).Dispose();
        Assert.Equal(CircuitState.Closed, client.Circuit(server).State);

        _time.Advance(TimeSpan.FromSeconds(10));
        server.Respond(500);
        (await client.GetAsync(server)).Dispose();

        // Open until the 429's deadline (40 s after it), not 5 s after the 500.
        await AssertOpenForAsync(client, server, TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task CustomRetryAfterSelector_ReplacesTheHeaderRules()
    {
        await using ScriptedServer server = await ScriptedServer.StartAsync();
        server.Respond(503, ("Retry-After", "600"), ("X-Come-Back-In", "75"));
        using var client = new BreakerClient(_time, handlerOptions: new CircuitBreakerHandlerOptions
        {
            RetryAfterSelector = response => response.Headers.TryGetValues("X-Come-Back-In", out IEnumerable<string>? values)
                ? TimeSpan.FromSeconds(int.Parse(values.Single(), CultureInfo.InvariantCulture))
                : null,
        });

        (await client.GetAsync(server)).Dispose();

        await AssertOpenForAsync(client, server, TimeSpan.FromSeconds(75));
    }

    /// <summary>
    /// Asserts the circuit of <paramref name="server"/> rejects calls (none reaches the server) until
    /// <paramref name="period"/> has passed on the fake clock, not a tick less, and lets a probe through at that moment.
    /// </summary>
    private async Task AssertOpenForAsync(BreakerClient client, ScriptedServer server, TimeSpan period)
    {
        CircuitBreaker circuit = client.Circuit(server);
        int requests = server.Requests;
        Assert.Equal(CircuitState.Open, circuit.State);

        _time.Advance(period - Tick);
        Assert.Equal(CircuitState.Open, circuit.State);
        CircuitOpenException rejected = await Assert.ThrowsAsync<CircuitOpenException>(() => client.GetAsync(server));
        Assert.Equal(Tick, rejected.RetryAfter);
        Assert.Equal(requests, server.Requests);

        _time.Advance(Tick);
        Assert.Equal(CircuitState.HalfOpen, circuit.State);
        server.Respond(200);
        using HttpResponseMessage probe = await client.GetAsync(server);
        Assert.Equal(HttpStatusCode.OK, probe.StatusCode);
        Assert.Equal(requests + 1, server.Requests);
    }
}
