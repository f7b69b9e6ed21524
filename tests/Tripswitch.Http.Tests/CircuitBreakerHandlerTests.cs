using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Time.Testing;
using Tripswitch.Http.Tests.Infrastructure;
using Tripswitch.Testing;
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
    public async Task DefaultKey_IsHostDashPort_SharedByEveryPathOfTheServer()
    {
        await using ScriptedServer server = await ScriptedServer.StartAsync();
        server.Respond(500);
        using var client = new BreakerClient(_time);

        (await client.GetAsync(server, "v1/chat/completions")).Dispose();
        await Assert.ThrowsAsync<CircuitOpenException>(() => client.GetAsync(server, "v1/models?x=1"));

        Assert.Equal($"127.0.0.1-{server.BaseAddress.Port}", Assert.Single(client.Registry.Status()).Key); // written out, not from the key function
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
        (Socket bound, Uri address) = Loopback.RefusingPort();
        using Socket refusing = bound;
        using var client = new BreakerClient(_time);

        HttpRequestException refused = await Assert.ThrowsAsync<HttpRequestException>(
            () => client.Http.GetAsync(address, TestContext.Current.CancellationToken));
        Assert.Equal(HttpRequestError.ConnectionError, refused.HttpRequestError);

        CircuitBreaker circuit = client.Circuit(CircuitBreakerHandlerOptions.AuthorityKey(address));
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
    public async Task TransportErrorCausedByTheCallersCancellation_IsNotAFailure()
    {
        // A transport can fail with an HttpRequestException (a connection torn down) rather than an
        // OperationCanceledException when the caller cancels mid-request; HttpClient then reports a cancellation to the
        // caller, and the circuit must not count a failure either. A stub transport plays that race deterministically.
        var registry = new CircuitBreakerRegistry(new CircuitBreakerOptions { TimeProvider = _time, FailureThreshold = 1 });
        var transport = new FailsWhenCancelledHandler();
        using var http = new HttpClient(new CircuitBreakerHandler(registry) { InnerHandler = transport });
        using var cancellation = new CancellationTokenSource();

        Task<HttpResponseMessage> call = http.GetAsync(new Uri("http://127.0.0.1:9/"), cancellation.Token);
        await transport.Entered.WaitAsync(TestContext.Current.CancellationToken);
        await cancellation.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call); // what HttpClient makes of it
        Assert.Equal("127.0.0.1-9", Assert.Single(registry.Status()).Key); // the call's circuit, not one Get would create
        CircuitSummary summary = registry.Get("127.0.0.1-9").GetSummary();
        Assert.Equal(0, summary.Failed);
        Assert.Equal(1, summary.Ignored);
        Assert.Equal(CircuitState.Closed, summary.State);
    }

    /// <summary>Waits for the request's cancellation, then fails the way a torn-down connection does.</summary>
    private sealed class FailsWhenCancelledHandler : HttpMessageHandler
    {
        private readonly TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Entered => _entered.Task;

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            using CancellationTokenRegistration registration = cancellationToken.Register(() => cancelled.TrySetResult());
            _entered.TrySetResult();
            await cancelled.Task.WaitAsync(TestContext.Current.CancellationToken);
            throw new HttpRequestException(HttpRequestError.ConnectionError, "The connection was closed.", new IOException("Connection reset by peer."));
        }
    }

    [Fact]
    public async Task HandlerTimeout_IsAFailure_AndCancelsTheRequest()
    {
        await using ScriptedServer server = await ScriptedServer.StartAsync();
        ScriptedServer.ServerHang hang = server.Hang();
        using var client = new BreakerClient(_time, handlerOptions: new CircuitBreakerHandlerOptions { Timeout = TimeSpan.FromSeconds(30) });

        Task<HttpResponseMessage> call = client.GetAsync(server);
        await hang.Entered.WaitAsync(TestContext.Current.CancellationToken);
        _time.Advance(TimeSpan.FromSeconds(30) - TimeSpan.FromMilliseconds(1));
        Assert.False(call.IsCompleted);
        _time.Advance(TimeSpan.FromMilliseconds(1));

        TaskCanceledException timedOut = await Assert.ThrowsAsync<TaskCanceledException>(() => call);
        TimeoutException timeout = Assert.IsType<TimeoutException>(timedOut.InnerException);
        Assert.Contains("30s", timeout.Message, StringComparison.Ordinal);
        await hang.ClientGone.WaitAsync(TestContext.Current.CancellationToken); // the request really was cancelled

        CircuitSummary summary = client.Circuit(server).GetSummary();
        Assert.Equal(1, summary.Failed);
        Assert.Equal(0, summary.Ignored);
        Assert.Equal(CircuitState.Open, summary.State);
        Assert.IsType<TimeoutException>(Assert.Single(summary.Transitions).Cause);
    }

    [Fact]
    public async Task HandlerTimeout_CallersCancellationIsStillIgnored()
    {
        await using ScriptedServer server = await ScriptedServer.StartAsync();
        ScriptedServer.ServerHang hang = server.Hang();
        using var client = new BreakerClient(_time, handlerOptions: new CircuitBreakerHandlerOptions { Timeout = TimeSpan.FromSeconds(30) });
        using var cancellation = new CancellationTokenSource();

        Task<HttpResponseMessage> call = client.GetAsync(server, cancellation.Token);
        await hang.Entered.WaitAsync(TestContext.Current.CancellationToken);
        await cancellation.CancelAsync();

        OperationCanceledException canceled = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        Assert.IsNotType<TimeoutException>(canceled.InnerException);
        _time.Advance(TimeSpan.FromMinutes(1)); // the timeout was disposed with the call: nothing fires later

        CircuitSummary summary = client.Circuit(server).GetSummary();
        Assert.Equal(0, summary.Failed);
        Assert.Equal(1, summary.Ignored);
        Assert.Equal(CircuitState.Closed, summary.State);
    }

    [Fact]
    public async Task HandlerTimeout_NotReached_ChangesNothing()
    {
        await using ScriptedServer server = await ScriptedServer.StartAsync();
        using var client = new BreakerClient(_time, handlerOptions: new CircuitBreakerHandlerOptions { Timeout = TimeSpan.FromSeconds(30) });

        using HttpResponseMessage response = await client.GetAsync(server);
        _time.Advance(TimeSpan.FromMinutes(1));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1, client.Circuit(server).GetSummary().Successful);
        Assert.Equal(0, client.Circuit(server).GetSummary().Failed);
    }

    [Fact]
    public async Task HandlerTimeout_AppliesToSynchronousSend()
    {
        await using ScriptedServer server = await ScriptedServer.StartAsync();
        ScriptedServer.ServerHang hang = server.Hang();
        using var client = new BreakerClient(_time, handlerOptions: new CircuitBreakerHandlerOptions { Timeout = TimeSpan.FromSeconds(10) });

        Task<HttpResponseMessage> call = Task.Run(
            () => client.Http.Send(new HttpRequestMessage(HttpMethod.Get, server.BaseAddress), TestContext.Current.CancellationToken),
            TestContext.Current.CancellationToken);
        await hang.Entered.WaitAsync(TestContext.Current.CancellationToken);
        _time.Advance(TimeSpan.FromSeconds(10));

        TaskCanceledException timedOut = await Assert.ThrowsAsync<TaskCanceledException>(() => call);
        Assert.IsType<TimeoutException>(timedOut.InnerException);
        Assert.Equal(CircuitState.Open, client.Circuit(server).State);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    [InlineData(int.MaxValue + 1L)]
    public void HandlerTimeout_OutOfRange_IsRefusedWithTheOptionsName(long milliseconds)
    {
        var options = new CircuitBreakerHandlerOptions { Timeout = TimeSpan.FromMilliseconds(milliseconds) };
        ArgumentOutOfRangeException error = Assert.Throws<ArgumentOutOfRangeException>(() => new CircuitBreakerHandler(new CircuitBreakerRegistry(), options));
        Assert.Equal("Timeout", error.ParamName);
        Assert.StartsWith("CircuitBreakerHandlerOptions.Timeout must be between 00:00:00.0010000 and 24.20:31:23.6470000; it was ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HandlerTimeout_Infinite_MeansNone()
    {
        await using ScriptedServer server = await ScriptedServer.StartAsync();
        ScriptedServer.ServerHang hang = server.Hang();
        using var client = new BreakerClient(_time, handlerOptions: new CircuitBreakerHandlerOptions { Timeout = Timeout.InfiniteTimeSpan });

        Task<HttpResponseMessage> call = client.GetAsync(server);
        await hang.Entered.WaitAsync(TestContext.Current.CancellationToken);
        _time.Advance(TimeSpan.FromDays(30)); // far past any finite timeout the handler could have set
        Assert.False(call.IsCompleted);
        Assert.False(hang.ClientGone.IsCompleted);
        hang.Release();

        using HttpResponseMessage response = await call;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        CircuitSummary summary = client.Circuit(server).GetSummary();
        Assert.Equal((1, 0, CircuitState.Closed), (summary.Successful, summary.Failed, summary.State));
    }

    [Fact]
    public async Task HttpClientTimeout_LooksLikeTheCallersCancellation_SoItIsNotCounted()
    {
        // HttpClient enforces its Timeout by cancelling the token it passes down the handler chain: inside the handler
        // that is indistinguishable from the caller's own cancellation. CircuitBreakerHandlerOptions.Timeout is the one
        // that counts (see above). This test pins the documented limitation.
        await using ScriptedServer server = await ScriptedServer.StartAsync();
        ScriptedServer.ServerHang hang = server.Hang();
        using var client = new BreakerClient(_time);
        client.Http.Timeout = TimeSpan.FromMilliseconds(300);

        TaskCanceledException timedOut = await Assert.ThrowsAsync<TaskCanceledException>(() => client.GetAsync(server));
        Assert.IsType<TimeoutException>(timedOut.InnerException); // HttpClient's own timeout
        hang.Release();

        CircuitSummary summary = client.Circuit(server).GetSummary();
        Assert.Equal(0, summary.Failed);
        Assert.Equal(1, summary.Ignored);
        Assert.Equal(CircuitState.Closed, summary.State);
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
    public async Task ThrowingFailureRule_CountsAFailure_AndReleasesTheResponse()
    {
        await using ScriptedServer server = await ScriptedServer.StartAsync();
        var seen = new List<HttpResponseMessage>();
        using var client = new BreakerClient(_time, handlerOptions: new CircuitBreakerHandlerOptions
        {
            IsFailure = response =>
            {
                seen.Add(response);
                throw new InvalidOperationException("rule bug");
            },
        });

        InvalidOperationException error = await Assert.ThrowsAsync<InvalidOperationException>(() => client.GetAsync(server));

        Assert.Equal("rule bug", error.Message); // the user's bug surfaces
        Assert.Equal(CircuitState.Open, client.Circuit(server).State); // and the call counted as failed, so no permit leaked
        HttpResponseMessage dropped = Assert.Single(seen);
        // Nobody else can dispose the response the caller never got: the handler did (its content is gone).
        await Assert.ThrowsAsync<ObjectDisposedException>(() => dropped.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
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
