using System.Net;
using Microsoft.Extensions.Time.Testing;
using Tripswitch.Http.Tests.Infrastructure;
using Xunit;

namespace Tripswitch.Http.Tests;

/// <summary>With <see cref="CircuitBreakerHandlerOptions.ReturnServiceUnavailableWhenOpen"/>, rejected calls get a synthesized 503 instead of an exception.</summary>
public sealed class ServiceUnavailableTests
{
    private readonly FakeTimeProvider _time = new();

    private static CircuitBreakerHandlerOptions Synthesize => new() { ReturnServiceUnavailableWhenOpen = true };

    [Fact]
    public async Task OpenCircuit_Answers503WithRetryAfterRoundedUp_WithoutReachingTheServer()
    {
        await using ScriptedServer server = await ScriptedServer.StartAsync();
        server.Respond(500);
        using var client = new BreakerClient(_time, options => options.RecoveryTimeout = TimeSpan.FromSeconds(30), Synthesize);
        (await client.GetAsync(server)).Dispose();

        _time.Advance(TimeSpan.FromSeconds(10.2)); // 19.8 s left
        using var request = new HttpRequestMessage(HttpMethod.Get, server.BaseAddress);
        using HttpResponseMessage response = await client.Http.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(20), response.Headers.RetryAfter?.Delta);
        Assert.Equal("Circuit Open", response.ReasonPhrase);
        Assert.Same(request, response.RequestMessage);
        Assert.Equal(server.AuthorityKey, Assert.Single(response.Headers.GetValues("X-Tripswitch-Circuit")));
        Assert.Equal("open", Assert.Single(response.Headers.GetValues("X-Tripswitch-State")));
        string body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.Contains("is open", body, StringComparison.Ordinal);

        Assert.Equal(1, server.Requests); // the callback never reached the server
        CircuitSummary summary = client.Circuit(server).GetSummary();
        Assert.Equal(1, summary.Failed); // the synthesized 503 is a rejection, not one more failure
        Assert.Equal(1, summary.Rejected);
    }

    [Fact]
    public async Task WholeSecondsLeft_AreNotRoundedFurther()
    {
        await using ScriptedServer server = await ScriptedServer.StartAsync();
        server.Respond(503);
        using var client = new BreakerClient(_time, options => options.RecoveryTimeout = TimeSpan.FromSeconds(30), Synthesize);
        (await client.GetAsync(server)).Dispose();

        _time.Advance(TimeSpan.FromSeconds(12));
        using HttpResponseMessage response = await client.GetAsync(server);

        Assert.Equal(TimeSpan.FromSeconds(18), response.Headers.RetryAfter?.Delta);
    }

    [Fact]
    public async Task ServersRetryAfter_IsPassedOnToTheCaller()
    {
        await using ScriptedServer server = await ScriptedServer.StartAsync();
        server.Respond(429, ("Retry-After", "90"));
        using var client = new BreakerClient(_time, handlerOptions: Synthesize);
        using (HttpResponseMessage limited = await client.GetAsync(server))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode); // the server's own answer, as it was
        }

        using HttpResponseMessage response = await client.GetAsync(server);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(90), response.Headers.RetryAfter?.Delta);
        Assert.Equal(1, server.Requests);
    }

    [Fact]
    public async Task HalfOpenWithItsProbeBusy_Answers503HalfOpen()
    {
        await using ScriptedServer server = await ScriptedServer.StartAsync();
        server.Respond(500);
        using var client = new BreakerClient(_time, handlerOptions: Synthesize);
        (await client.GetAsync(server)).Dispose();
        _time.Advance(BreakerClient.Recovery);

        ScriptedServer.ServerHang hang = server.Hang();
        Task<HttpResponseMessage> probe = client.GetAsync(server);
        await hang.Entered.WaitAsync(TestContext.Current.CancellationToken);

        using (HttpResponseMessage busy = await client.GetAsync(server))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, busy.StatusCode);
            Assert.Equal("halfopen", Assert.Single(busy.Headers.GetValues("X-Tripswitch-State")));
            Assert.Equal(TimeSpan.Zero, busy.Headers.RetryAfter?.Delta);
        }

        hang.Release();
        using HttpResponseMessage probed = await probe;
        Assert.Equal(HttpStatusCode.OK, probed.StatusCode);
        Assert.Equal(2, server.Requests);
    }

    [Fact]
    public async Task IsolatedCircuit_Answers503WithoutRetryAfter()
    {
        await using ScriptedServer server = await ScriptedServer.StartAsync();
        using var client = new BreakerClient(_time, handlerOptions: Synthesize);
        client.Registry.Get(server.AuthorityKey).Isolate();

        using HttpResponseMessage response = await client.GetAsync(server);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Null(response.Headers.RetryAfter); // only a reset ends isolation: no time to promise
        Assert.Equal("isolated", Assert.Single(response.Headers.GetValues("X-Tripswitch-State")));
        Assert.Equal(0, server.Requests);
    }

    [Fact]
    public async Task WithoutTheOption_AnOpenCircuitThrowsWithTheTimeLeft()
    {
        await using ScriptedServer server = await ScriptedServer.StartAsync();
        server.Respond(500);
        using var client = new BreakerClient(_time, options => options.RecoveryTimeout = TimeSpan.FromSeconds(30));
        (await client.GetAsync(server)).Dispose();
        _time.Advance(TimeSpan.FromSeconds(10.2));

        CircuitOpenException rejected = await Assert.ThrowsAsync<CircuitOpenException>(() => client.GetAsync(server));

        Assert.Equal(CircuitState.Open, rejected.State);
        Assert.Equal(TimeSpan.FromSeconds(19.8), rejected.RetryAfter);
        Assert.Equal($"Circuit '{server.AuthorityKey}' is open. Retry after 19.8s", rejected.Message);
    }

    [Fact]
    public async Task Rejection_ReportsTheStateThatRejected_EvenWhenTheOpenPeriodEndsRightAfter()
    {
        await using ScriptedServer server = await ScriptedServer.StartAsync();
        server.Respond(500);
        using var client = new BreakerClient(_time);
        (await client.GetAsync(server)).Dispose();

        // The clock moves 1 ms at every reading: the circuit rejects the call 1 ms before its open period ends, and any
        // later reading of the state finds it over. The exception must describe the rejection, not a later state.
        _time.Advance(BreakerClient.Recovery - TimeSpan.FromMilliseconds(1));
        _time.AutoAdvanceAmount = TimeSpan.FromMilliseconds(1);
        CircuitOpenException rejected = await Assert.ThrowsAsync<CircuitOpenException>(() => client.GetAsync(server));
        _time.AutoAdvanceAmount = TimeSpan.Zero;

        Assert.Equal(CircuitState.Open, rejected.State);
        Assert.InRange(rejected.RetryAfter, TimeSpan.Zero, TimeSpan.FromMilliseconds(1)); // read after the rejection: at most what was left
        Assert.Equal($"Circuit '{server.AuthorityKey}' is open. Retry after 0.0s", rejected.Message);
        Assert.Equal(1, server.Requests);
    }

    [Fact]
    public async Task Synthesized503_ReportsTheStateThatRejected_EvenWhenTheOpenPeriodEndsRightAfter()
    {
        await using ScriptedServer server = await ScriptedServer.StartAsync();
        server.Respond(500);
        using var client = new BreakerClient(_time, handlerOptions: Synthesize);
        (await client.GetAsync(server)).Dispose();

        _time.Advance(BreakerClient.Recovery - TimeSpan.FromMilliseconds(1));
        _time.AutoAdvanceAmount = TimeSpan.FromMilliseconds(1);
        using HttpResponseMessage response = await client.GetAsync(server);
        _time.AutoAdvanceAmount = TimeSpan.Zero;

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("open", Assert.Single(response.Headers.GetValues("X-Tripswitch-State")));
        Assert.InRange(response.Headers.RetryAfter?.Delta ?? TimeSpan.MaxValue, TimeSpan.Zero, TimeSpan.FromSeconds(1)); // at most 1 ms left, rounded up
    }
}
