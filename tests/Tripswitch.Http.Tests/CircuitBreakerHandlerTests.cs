using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Time.Testing;
using Tripswitch.Http.Tests.Infrastructure;
using Xunit;

namespace Tripswitch.Http.Tests;

/// <summary>Circuits per authority or key, the outcome rules and cancellation, against real Kestrel servers on 127.0.0.1.</summary>
public sealed class CircuitBreakerHandlerTests
{
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public async Task EachAuthority_HasItsOwnCircuit()
    {
        await using ScriptedServer failing = await ScriptedServer.StartAsync();
        await using ScriptedServer healthy = await ScriptedServer.StartAsync();
        Assert.NotEqual(failing.BaseAddress.Port, healthy.BaseAddress.Port);
        failing.Respond(500);
        using var client = new BreakerClient(_time);

        using (HttpResponseMessage failed = await client.GetAsync(failing))
        {
            Assert.Equal(HttpStatusCode.InternalServerError, failed.StatusCode); // the failure still reaches the caller
        }

        CircuitOpenException rejected = await Assert.ThrowsAsync<CircuitOpenException>(() => client.GetAsync(failing));
        Assert.Equal(failing.AuthorityKey, rejected.CircuitName);
        Assert.Equal(1, failing.Requests); // the rejected call never reached the server

        using (HttpResponseMessage ok = await client.GetAsync(healthy))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        Assert.Equal(1, healthy.Requests);
        IReadOnlyDictionary<string, CircuitState> status = client.Registry.Status();
        Assert.Equal(2, status.Count);
        Assert.Equal(CircuitState.Open, status[failing.AuthorityKey]);
        Assert.Equal(CircuitState.Closed, status[healthy.AuthorityKey]);
    }

    [Fact]
    public async Task DefaultKey_IsSchemeHostAndPort_SharedByEveryPathOfTheServer()
    {
        await using ScriptedServer server = await ScriptedServer.StartAsync();
        server.Respond(500);
        using var client = new BreakerClient(_time);

        (await client.GetAsync(server, "v1/chat/completions")).Dispose();
        await Assert.ThrowsAsync<CircuitOpenException>(() => client.GetAsync(server, "v1/models?x=1"));

        Assert.Equal($"http://127.0.0.1:{server.BaseAddress.Port}", Assert.Single(client.Registry.Status()).Key);
        Assert.Equal(1, server.Requests);
    }

    [Fact]
    public async Task KeySelector_ChoosesTheCircuit()
    {
        await using ScriptedServer server = await ScriptedServer.StartAsync();
        server.Respond(500);
        using var client = new BreakerClient(_time, handlerOptions: new CircuitBreakerHandlerOptions
        {
            KeySelector = request => request.RequestUri!.AbsolutePath.StartsWith("/models/a", StringComparison.Ordinal) ? "llm/model-a" : "llm/model-b",
        });

        (await client.GetAsync(server, "models/a/chat")).Dispose();
        CircuitOpenException rejected = await Assert.ThrowsAsync<CircuitOpenException>(() => client.GetAsync(server, "models/a/other"));
        Assert.Equal("llm/model-a", rejected.CircuitName);

        // Same server, another key: its own circuit, still closed, so the request goes out.
        (await client.GetAsync(server, "models/b/chat")).Dispose();
        Assert.Equal(2, server.Requests);

        IReadOnlyDictionary<string, CircuitState> status = client.Registry.Status();
        Assert.Equal(["llm/model-a", "llm/model-b"], status.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(CircuitState.Open, status["llm/model-a"]);
        Assert.Equal(CircuitState.Open, status["llm/model-b"]); // its own failure opened it
    }

    [Theory]
    [InlineData(200)]
    [InlineData(201)]
    [InlineData(400)]
    [InlineData(404)]
    public async Task NonTransientStatuses_AreSuccesses(int status)
    {
        await using ScriptedServer server = await ScriptedServer.StartAsync();
        server.Respond(status);
        using var client = new BreakerClient(_time);

        for (int i = 0; i < 3; i++)
        {
            using HttpResponseMessage response = await client.GetAsync(server);
            Assert.Equal(status, (int)response.StatusCode);
        }

        CircuitSummary summary = client.Circuit(server).GetSummary();
        Assert.Equal(CircuitState.Closed, summary.State);
        Assert.Equal(3, summary.Successful);
        Assert.Equal(0, summary.Failed);
        Assert.Equal(3, server.Requests);
    }

    [Theory]
    [InlineData(500)]
    [InlineData(502)]
    [InlineData(503)]
    [InlineData(504)]
    [InlineData(408)]
    [InlineData(429)]
    public async Task TransientStatuses_AreFailures(int status)
    {
        await using ScriptedServer server = await ScriptedServer.StartAsync();
        server.Respond(status);
        using var client = new BreakerClient(_time, options => options.FailureThreshold = 2);

        using (HttpResponseMessage first = await client.GetAsync(server))
        {
            Assert.Equal(status, (int)first.StatusCode);
        }

        Assert.Equal(CircuitState.Closed, client.Circuit(server).State);
        Assert.Equal(1, client.Circuit(server).GetSummary().ConsecutiveFailures);

        (await client.GetAsync(server)).Dispose();
        await Assert.ThrowsAsync<CircuitOpenException>(() => client.GetAsync(server));

        CircuitSummary summary = client.Circuit(server).GetSummary();
        Assert.Equal(CircuitState.Open, summary.State);
        Assert.Equal(2, summary.Failed);
        Assert.Equal(0, summary.Successful);
        Assert.Equal(1, summary.Rejected);
        Assert.Equal(2, server.Requests);
    }

    [Fact]
    public async Task ASuccess_ResetsTheConsecutiveFailures()
    {
        await using ScriptedServer server = await ScriptedServer.StartAsync();
        using var client = new BreakerClient(_time, options => options.FailureThreshold = 2);

        server.Respond(503);
        (await client.GetAsync(server)).Dispose();
        server.Respond(200);
        (await client.GetAsync(server)).Dispose();
        server.Respond(503);
        (await client.GetAsync(server)).Dispose();

        Assert.Equal(CircuitState.Closed, client.Circuit(server).State);
        Assert.Equal(1, client.Circuit(server).GetSummary().ConsecutiveFailures);
    }

    [Fact]
    public async Task ConnectionRefused_IsAFailure()
    {
        // A socket bound to a loopback port but not listening: connecting to it is refused at once.
        using var bound = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        bound.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var address = new Uri($"http://127.0.0.1:{((IPEndPoint)bound.LocalEndPoint!).Port}/");
        using var client = new BreakerClient(_time);

        HttpRequestException refused = await Assert.ThrowsAsync<HttpRequestException>(
            () => client.Http.GetAsync(address, TestContext.Current.CancellationToken));
        Assert.Equal(HttpRequestError.ConnectionError, refused.HttpRequestError);

        CircuitBreaker circuit = client.Circuit($"http://127.0.0.1:{address.Port}");
        Assert.Equal(CircuitState.Open, circuit.State);
        Assert.Equal(1, circuit.GetSummary().Failed);
        await Assert.ThrowsAsync<CircuitOpenException>(() => client.Http.GetAsync(address, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task CallersCancellation_IsNotAFailure()
    {
        await using ScriptedServer server = await ScriptedServer.StartAsync();
        ScriptedServer.ServerHang hang = server.Hang();
        using var client = new BreakerClient(_time);
        using var cancellation = new CancellationTokenSource();

        Task<HttpResponseMessage> call = client.GetAsync(server, cancellation.Token);
        await hang.Entered.WaitAsync(TestContext.Current.CancellationToken);
        await cancellation.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        await hang.ClientGone.WaitAsync(TestContext.Current.CancellationToken); // the server saw the client go away

        CircuitSummary summary = client.Circuit(server).GetSummary();
        Assert.Equal(CircuitState.Closed, summary.State); // with a threshold of 1, a counted failure would have opened it
        Assert.Equal(0, summary.Failed);
        Assert.Equal(1, summary.Ignored);

        server.Respond(200);
        using HttpResponseMessage next = await client.GetAsync(server);
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
    }

    [Fact]
    public async Task CallersCancellationOfAHalfOpenProbe_FreesItsSlotWithoutDeciding()
    {
        await using ScriptedServer server = await ScriptedServer.StartAsync();
        using var client = new BreakerClient(_time, options => options.SuccessThreshold = 1);
        server.Respond(500);
        (await client.GetAsync(server)).Dispose();
        _time.Advance(BreakerClient.Recovery);
        Assert.Equal(CircuitState.HalfOpen, client.Circuit(server).State);

        ScriptedServer.ServerHang hang = server.Hang();
        using var cancellation = new CancellationTokenSource();
        Task<HttpResponseMessage> probe = client.GetAsync(server, cancellation.Token);
        await hang.Entered.WaitAsync(TestContext.Current.CancellationToken);

        // The only probe slot is taken: everyone else is rejected meanwhile.
        CircuitOpenException busy = await Assert.ThrowsAsync<CircuitOpenException>(() => client.GetAsync(server));
        Assert.Equal(CircuitState.HalfOpen, busy.State);

        await cancellation.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => probe);
        Assert.Equal(CircuitState.HalfOpen, client.Circuit(server).State); // neither reopened nor closed

        // The slot is free again: the next caller probes, succeeds and closes the circuit.
        server.Respond(200);
        using HttpResponseMessage next = await client.GetAsync(server);
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
        Assert.Equal(CircuitState.Closed, client.Circuit(server).State);
    }

    [Fact]
    public async Task SynchronousSend_FollowsTheSameRules()
    {
        await using ScriptedServer server = await ScriptedServer.StartAsync();
        server.Respond(502);
        using var client = new BreakerClient(_time);

        using (HttpResponseMessage failed = client.Http.Send(new HttpRequestMessage(HttpMethod.Get, server.BaseAddress), TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.BadGateway, failed.StatusCode);
        }

        Assert.Throws<CircuitOpenException>(() => client.Http.Send(new HttpRequestMessage(HttpMethod.Get, server.BaseAddress), TestContext.Current.CancellationToken));
        Assert.Equal(1, server.Requests);
    }

    [Fact]
    public async Task CustomFailureRule_DecidesWhatCounts()
    {
        await using ScriptedServer server = await ScriptedServer.StartAsync();
        using var client = new BreakerClient(_time, handlerOptions: new CircuitBreakerHandlerOptions
        {
            IsFailure = response => response.StatusCode == HttpStatusCode.NotFound,
        });

        server.Respond(500);
        (await client.GetAsync(server)).Dispose();
        Assert.Equal(CircuitState.Closed, client.Circuit(server).State);

        server.Respond(404);
        (await client.GetAsync(server)).Dispose();
        Assert.Equal(CircuitState.Open, client.Circuit(server).State);
    }

    [Fact]
    public async Task RequestWithoutAbsoluteUri_ExplainsHowToChooseACircuit()
    {
        // HttpClient would refuse a relative URI itself; an invoker hands it to the handler as it is.
        using var invoker = new HttpMessageInvoker(new CircuitBreakerHandler(new CircuitBreakerRegistry()) { InnerHandler = new SocketsHttpHandler() });
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("relative", UriKind.Relative));
        InvalidOperationException error = await Assert.ThrowsAsync<InvalidOperationException>(
            () => invoker.SendAsync(request, TestContext.Current.CancellationToken));
        Assert.Contains("KeySelector", error.Message, StringComparison.Ordinal);
    }
}
