using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net.Sockets;
using Microsoft.Extensions.Time.Testing;
using OpenAI;
using OpenAI.Chat;
using Tripswitch.FakeLlm;
using Tripswitch.Http;
using Tripswitch.Samples.OpenAI;
using Xunit;

namespace Tripswitch.Samples.Tests.OpenAI;

/// <summary>
/// The seed's OpenAI example for real: the official OpenAI client through a <see cref="CircuitBreakerHandler"/> against
/// FakeLlm, with the seed's options (5 failures, 60 s, 2 successes) on fake time.
/// </summary>
public sealed class OpenAICircuitBreakerTests : IAsyncLifetime
{
    private const string Model = "gpt-4.1";
    private static readonly TimeSpan Recovery = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(1);
    private readonly FakeTimeProvider _time = new();
    private readonly CircuitBreakerRegistry _registry;
    private FakeLlmServer _server = null!;

    public OpenAICircuitBreakerTests()
    {
        _registry = new CircuitBreakerRegistry(new CircuitBreakerOptions
        {
            FailureThreshold = 5,
            RecoveryTimeout = Recovery,
            SuccessThreshold = 2,
            TimeProvider = _time,
        });
    }

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private FakeModel Llm => _server.Model(Model);

    public async ValueTask InitializeAsync() => _server = await FakeLlmServer.StartAsync(cancellationToken: Token);

    public ValueTask DisposeAsync() => _server.DisposeAsync();

    [Fact]
    public async Task CircuitOpensAfterFiveServerErrors_ThenTheFallbackAnswersWithoutCallingTheServer()
    {
        using ProtectedChat chat = Chat();
        Llm.Always(FakeLlmBehavior.ServerError());

        for (int i = 1; i <= 5; i++)
        {
            string error = await chat.GetCompletionAsync("Hello", Token);
            Assert.StartsWith("Error: HTTP 500", error, StringComparison.Ordinal);
            Assert.Equal(i, Llm.Requests); // retries are off: one call, one request
        }

        Assert.Equal(CircuitState.Open, chat.Circuit.State);
        string fallback = await chat.GetCompletionAsync("Hello", Token);

        Assert.Equal("Service temporarily unavailable. Circuit 'openai/gpt-4.1' is open. Retry after 60.0s", fallback);
        Assert.Equal(5, Llm.Requests);
        CircuitSummary summary = chat.Circuit.GetSummary();
        Assert.Equal(5, summary.Failed);
        Assert.Equal(1, summary.Rejected);
    }

    [Fact]
    public async Task OpenAIClient_LetsCircuitOpenExceptionThroughUnwrapped()
    {
        using ProtectedChat chat = Chat();
        chat.Circuit.Isolate();

        // What the official client surfaces (found here, relied on by ProtectedChat): the handler's exception itself,
        // not a ClientResultException, for a plain call and for a stream alike.
        CircuitOpenException plain = await Assert.ThrowsAsync<CircuitOpenException>(
            () => chat.Client.CompleteChatAsync([new UserChatMessage("Hi")], cancellationToken: Token));
        Assert.Equal("openai/gpt-4.1", plain.CircuitName);

        CircuitOpenException streamed = await Assert.ThrowsAsync<CircuitOpenException>(async () =>
        {
            await foreach (StreamingChatCompletionUpdate update in chat.Client.CompleteChatStreamingAsync([new UserChatMessage("Hi")], cancellationToken: Token))
            {
                Assert.Fail("No update may arrive while the circuit is isolated.");
            }
        });
        Assert.Equal(CircuitState.Isolated, streamed.State);
        Assert.Equal(0, Llm.Requests);
    }

    [Fact]
    public void Fallback_FindsARejectionWrappedByAClient()
    {
        var open = new CircuitOpenException("openai/gpt-4.1", CircuitState.Open, TimeSpan.FromSeconds(3));

        Assert.Same(open, ProtectedChat.FindCircuitOpen(open));
        Assert.Same(open, ProtectedChat.FindCircuitOpen(new ClientResultException("wrapped", response: null, open)));
        Assert.Same(open, ProtectedChat.FindCircuitOpen(new AggregateException(new InvalidOperationException("outer", open))));
        Assert.Null(ProtectedChat.FindCircuitOpen(new ClientResultException("HTTP 500")));
        Assert.Null(ProtectedChat.FindCircuitOpen(null));
    }

    [Fact]
    public async Task RateLimit_KeepsTheCircuitOpenAsLongAsTheServerAsked()
    {
        using ProtectedChat chat = Chat();
        TimeSpan asked = TimeSpan.FromSeconds(90); // longer than the 60 s recovery timeout
        Llm.Always(FakeLlmBehavior.RateLimited(asked));

        for (int i = 0; i < 5; i++)
        {
            Assert.StartsWith("Error: HTTP 429", await chat.GetCompletionAsync("Hello", Token), StringComparison.Ordinal);
        }

        Assert.Equal(CircuitState.Open, chat.Circuit.State);
        Assert.Equal("Service temporarily unavailable. Circuit 'openai/gpt-4.1' is open. Retry after 90.0s", await chat.GetCompletionAsync("Hello", Token));

        _time.Advance(asked - Tick);
        Assert.Equal(CircuitState.Open, chat.Circuit.State);
        Assert.StartsWith("Service temporarily unavailable.", await chat.GetCompletionAsync("Hello", Token), StringComparison.Ordinal);
        Assert.Equal(5, Llm.Requests);

        _time.Advance(Tick);
        Assert.Equal(CircuitState.HalfOpen, chat.Circuit.State);
        Llm.Always(FakeLlmBehavior.Reply("Back."));
        Assert.Equal("Back.", await chat.GetCompletionAsync("Hello", Token));
        Assert.Equal(6, Llm.Requests);
    }

    [Fact]
    public async Task RateLimitedProbe_ReopensForTheServersTime_NotTheRecoveryTimeout()
    {
        using ProtectedChat chat = Chat();
        Llm.Always(FakeLlmBehavior.ServerError());
        for (int i = 0; i < 5; i++)
        {
            await chat.GetCompletionAsync("Hello", Token);
        }

        _time.Advance(Recovery);
        Llm.Always(FakeLlmBehavior.RateLimited(("retry-after-ms", "150000")));
        Assert.StartsWith("Error: HTTP 429", await chat.GetCompletionAsync("probe", Token), StringComparison.Ordinal);
        Assert.Equal(CircuitState.Open, chat.Circuit.State);

        _time.Advance(TimeSpan.FromSeconds(150) - Tick);
        Assert.Equal(CircuitState.Open, chat.Circuit.State);
        _time.Advance(Tick);
        Assert.Equal(CircuitState.HalfOpen, chat.Circuit.State);
    }

    [Fact]
    public async Task Recovery_TwoSuccessfulProbesCloseTheCircuit()
    {
        using ProtectedChat chat = Chat();
        Llm.Enqueue(FakeLlmBehavior.ServerError(), times: 5).Always(FakeLlmBehavior.Reply("Hello!"));
        for (int i = 0; i < 5; i++)
        {
            await chat.GetCompletionAsync("Hello", Token);
        }

        Assert.Equal(CircuitState.Open, chat.Circuit.State);
        _time.Advance(Recovery - Tick);
        Assert.StartsWith("Service temporarily unavailable.", await chat.GetCompletionAsync("Hello", Token), StringComparison.Ordinal);
        _time.Advance(Tick);

        Assert.Equal("Hello!", await chat.GetCompletionAsync("Hello", Token));
        Assert.Equal(CircuitState.HalfOpen, chat.Circuit.State); // one of two
        Assert.Equal("Hello!", await chat.GetCompletionAsync("Hello", Token));
        Assert.Equal(CircuitState.Closed, chat.Circuit.State);

        Assert.Equal(
            [(CircuitState.Closed, CircuitState.Open), (CircuitState.Open, CircuitState.HalfOpen), (CircuitState.HalfOpen, CircuitState.Closed)],
            chat.Circuit.GetSummary().Transitions.Select(t => (t.From, t.To)));
        Assert.Equal(7, Llm.Requests);
    }

    [Fact]
    public async Task FailedProbe_ReopensTheCircuit()
    {
        using ProtectedChat chat = Chat();
        Llm.Always(FakeLlmBehavior.ServerError());
        for (int i = 0; i < 5; i++)
        {
            await chat.GetCompletionAsync("Hello", Token);
        }

        _time.Advance(Recovery);
        Assert.StartsWith("Error: HTTP 500", await chat.GetCompletionAsync("probe", Token), StringComparison.Ordinal);

        Assert.Equal(CircuitState.Open, chat.Circuit.State);
        Assert.Equal("Service temporarily unavailable. Circuit 'openai/gpt-4.1' is open. Retry after 60.0s", await chat.GetCompletionAsync("Hello", Token));
    }

    [Fact]
    public async Task ClientsDefaultRetryPolicy_WouldSendMoreRequestsThanTheCallerMade()
    {
        // Why ProtectedChat turns the client's retries off: with the default policy, one call became two requests and
        // the circuit counted a failure the caller never saw.
        using var http = new HttpClient(new CircuitBreakerHandler(_registry, new CircuitBreakerHandlerOptions { KeySelector = _ => "openai/default-retries" })
        {
            InnerHandler = new SocketsHttpHandler(),
        });
        var retrying = new ChatClient(Model, new ApiKeyCredential("test"), new OpenAIClientOptions
        {
            Endpoint = _server.ApiEndpoint,
            Transport = new HttpClientPipelineTransport(http),
        });
        Llm.Enqueue(FakeLlmBehavior.ServerError()).Always(FakeLlmBehavior.Reply("Second time lucky."));

        ChatCompletion completion = (await retrying.CompleteChatAsync([new UserChatMessage("Hello")], cancellationToken: Token)).Value;

        Assert.Equal("Second time lucky.", completion.Content[0].Text);
        Assert.Equal(2, Llm.Requests);
        CircuitSummary summary = _registry.Get("openai/default-retries").GetSummary();
        Assert.Equal(1, summary.Failed);
        Assert.Equal(1, summary.Successful);
    }

    [Fact]
    public async Task EachModel_HasItsOwnCircuit()
    {
        using ProtectedChat big = Chat(Model);
        using ProtectedChat small = Chat("gpt-4.1-mini");
        Llm.Always(FakeLlmBehavior.ServerError());
        _server.Model("gpt-4.1-mini").Always(FakeLlmBehavior.Reply("Still here."));

        for (int i = 0; i < 5; i++)
        {
            await big.GetCompletionAsync("Hello", Token);
        }

        Assert.StartsWith("Service temporarily unavailable.", await big.GetCompletionAsync("Hello", Token), StringComparison.Ordinal);
        Assert.Equal("Still here.", await small.GetCompletionAsync("Hello", Token));
        IReadOnlyDictionary<string, CircuitState> status = _registry.Status();
        Assert.Equal(CircuitState.Open, status["openai/gpt-4.1"]);
        Assert.Equal(CircuitState.Closed, status["openai/gpt-4.1-mini"]);
    }

    [Fact]
    public async Task TransportError_IsAFailure_AndSurfacesAsClientResultExceptionWithoutStatus()
    {
        (Socket bound, Uri address) = Loopback.RefusingPort(); // bound, not listening: connections are refused
        using Socket refusing = bound;
        using var chat = new ProtectedChat(new Uri(address, "v1"), Model, _registry);

        ClientResultException refused = await Assert.ThrowsAsync<ClientResultException>(
            () => chat.Client.CompleteChatAsync([new UserChatMessage("Hi")], cancellationToken: Token));
        Assert.Equal(0, refused.Status);
        Assert.IsType<HttpRequestException>(refused.InnerException);

        Assert.StartsWith("Error: ", await chat.GetCompletionAsync("Hello", Token), StringComparison.Ordinal);
        Assert.Equal(2, chat.Circuit.GetSummary().Failed);
    }

    [Fact]
    public async Task CallersCancellation_ThroughTheOpenAIClient_IsNotAFailure()
    {
        using ProtectedChat chat = Chat();
        FakeLlmHang hang = FakeLlmBehavior.Hang();
        Llm.Always(hang);
        using var cancellation = new CancellationTokenSource();

        Task<string> call = chat.GetCompletionAsync("Hello", cancellation.Token);
        await hang.Entered.WaitAsync(Token);
        await cancellation.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        await hang.ClientGone.WaitAsync(Token);
        CircuitSummary summary = chat.Circuit.GetSummary();
        Assert.Equal(0, summary.Failed);
        Assert.Equal(1, summary.Ignored);
    }

    [Fact]
    public async Task HandlerTimeout_ThroughTheOpenAIClient_IsAFailure()
    {
        using ProtectedChat chat = Chat(handlerOptions: new CircuitBreakerHandlerOptions { Timeout = TimeSpan.FromSeconds(30) });
        FakeLlmHang hang = FakeLlmBehavior.Hang();
        Llm.Always(hang);

        // What the client surfaces: the handler's TaskCanceledException, its inner exception a TimeoutException.
        Task<ClientResult<ChatCompletion>> raw = chat.Client.CompleteChatAsync([new UserChatMessage("Hi")], cancellationToken: Token);
        await hang.Entered.WaitAsync(Token);
        _time.Advance(TimeSpan.FromSeconds(30));
        TaskCanceledException timedOut = await Assert.ThrowsAsync<TaskCanceledException>(() => raw);
        Assert.IsType<TimeoutException>(timedOut.InnerException);
        await hang.ClientGone.WaitAsync(Token);

        // The sample's fallback turns it into the seed's "Error: …".
        FakeLlmHang second = FakeLlmBehavior.Hang();
        Llm.Always(second);
        Task<string> call = chat.GetCompletionAsync("Hello", Token);
        await second.Entered.WaitAsync(Token);
        _time.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal("Error: The request was canceled due to the circuit breaker handler's Timeout of 30 seconds elapsing.", await call);

        Assert.Equal(2, chat.Circuit.GetSummary().Failed);
        Assert.Equal(0, chat.Circuit.GetSummary().Ignored);
    }

    [Fact]
    public async Task Streaming_PassesThroughTheCircuit_AStreamCutMidwayIsNotSeenByTheHandler()
    {
        using ProtectedChat chat = Chat();
        Llm.Enqueue(FakeLlmBehavior.Reply("All of it.")).Enqueue(FakeLlmBehavior.FailMidway("Only the beginning of it", chunksBeforeFailure: 2));

        string whole = string.Concat(await Collect(chat.Client.CompleteChatStreamingAsync([new UserChatMessage("1")], cancellationToken: Token)));
        Assert.Equal("All of it.", whole);

        List<string> cut = [];
        await Assert.ThrowsAnyAsync<IOException>(async () =>
        {
            await foreach (StreamingChatCompletionUpdate update in chat.Client.CompleteChatStreamingAsync([new UserChatMessage("2")], cancellationToken: Token))
            {
                cut.AddRange(update.ContentUpdate.Select(p => p.Text));
            }
        });
        Assert.Equal("Only the ", string.Concat(cut));

        // The handler returned at the response headers (200): the cut stream counts as a success, as its remarks say
        // (Tripswitch.AI's chat middleware is the layer that observes whole streams).
        CircuitSummary summary = chat.Circuit.GetSummary();
        Assert.Equal(2, summary.Successful);
        Assert.Equal(0, summary.Failed);
    }

    [Fact]
    public async Task Synthesized503_ReachesTheOpenAIClientAsAnErrorResponse()
    {
        using ProtectedChat chat = Chat(handlerOptions: new CircuitBreakerHandlerOptions { ReturnServiceUnavailableWhenOpen = true });
        Llm.Always(FakeLlmBehavior.ServerError());
        for (int i = 0; i < 5; i++)
        {
            await chat.GetCompletionAsync("Hello", Token);
        }

        _time.Advance(TimeSpan.FromSeconds(15.5));
        ClientResultException unavailable = await Assert.ThrowsAsync<ClientResultException>(
            () => chat.Client.CompleteChatAsync([new UserChatMessage("Hi")], cancellationToken: Token));

        Assert.Equal(503, unavailable.Status);
        PipelineResponse raw = unavailable.GetRawResponse()!;
        Assert.True(raw.Headers.TryGetValue("Retry-After", out string? retryAfter));
        Assert.Equal("45", retryAfter); // 44.5 s left, rounded up
        Assert.True(raw.Headers.TryGetValue("X-Tripswitch-Circuit", out string? circuit));
        Assert.Equal("openai/gpt-4.1", circuit);
        Assert.Equal(5, Llm.Requests);
    }

    private ProtectedChat Chat(string model = Model, CircuitBreakerHandlerOptions? handlerOptions = null)
        => new(_server.ApiEndpoint, model, _registry, handlerOptions: handlerOptions);

    private static async Task<List<string>> Collect(AsyncCollectionResult<StreamingChatCompletionUpdate> updates)
    {
        var texts = new List<string>();
        await foreach (StreamingChatCompletionUpdate update in updates)
        {
            texts.AddRange(update.ContentUpdate.Select(p => p.Text));
        }

        return texts;
    }
}
