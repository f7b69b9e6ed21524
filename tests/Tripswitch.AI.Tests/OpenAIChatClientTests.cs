using System.ClientModel;
using System.ClientModel.Primitives;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Time.Testing;
using OpenAI;
using Tripswitch.FakeLlm;
using Xunit;
using static Tripswitch.AI.Tests.Infrastructure.Circuits;

namespace Tripswitch.AI.Tests;

/// <summary>
/// End to end: the official OpenAI client, through the Microsoft.Extensions.AI.OpenAI adapter, wrapped by
/// <c>UseCircuitBreaker</c>, against FakeLlm on 127.0.0.1 (no network, no API key), with the client's retries off so one
/// call is one request. The cheaper model (the fallback) is wrapped too, so its own circuit shows it stays healthy.
/// </summary>
public sealed class OpenAIChatClientTests : IAsyncLifetime
{
    private const string Primary = "gpt-4.1";
    private const string Cheaper = "gpt-4.1-mini";
    private const string PrimaryKey = "openai/gpt-4.1";
    private const string CheaperKey = "openai/gpt-4.1-mini";
    private const int Threshold = 3;
    private static readonly TimeSpan OpenPeriod = TimeSpan.FromSeconds(60);
    private readonly FakeTimeProvider _time = new();
    private FakeLlmServer _server = null!;

    private FakeModel PrimaryModel => _server.Model(Primary);

    private FakeModel CheaperModel => _server.Model(Cheaper);

    public async ValueTask InitializeAsync() => _server = await FakeLlmServer.StartAsync(cancellationToken: Token);

    public ValueTask DisposeAsync() => _server.DisposeAsync();

    private CircuitBreakerRegistry NewRegistry(Func<Exception, TimeSpan?>? retryAfter = null, bool fallbackOnFailure = false) => new(new CircuitBreakerOptions
    {
        FallbackOnFailure = fallbackOnFailure,
        FailureThreshold = Threshold,
        RecoveryTimeout = OpenPeriod,
        SuccessThreshold = 2,
        RetryAfterExtractor = retryAfter,
        TimeProvider = _time,
    });

    /// <summary>The official client for <paramref name="model"/> on FakeLlm, as an <see cref="IChatClient"/>.</summary>
    private IChatClient OpenAIModel(string model)
        => new global::OpenAI.Chat.ChatClient(model, new ApiKeyCredential("test"), new OpenAIClientOptions
        {
            Endpoint = _server.ApiEndpoint,
            RetryPolicy = new ClientRetryPolicy(0),
        }).AsIChatClient();

    /// <summary>The primary model behind a circuit, with the cheaper model (behind its own circuit) as the fallback.</summary>
    private IChatClient ProtectedChat(CircuitBreakerRegistry registry, bool withFallback = true)
    {
        IChatClient? fallback = withFallback ? OpenAIModel(Cheaper).AsBuilder().UseCircuitBreaker(registry).Build() : null;
        return OpenAIModel(Primary).AsBuilder().UseCircuitBreaker(registry, o => o.FallbackClient = fallback).Build();
    }

    private static async Task<(string Text, Exception? Error)> ReadStreamAsync(IChatClient client)
    {
        var text = new StringBuilder();
        try
        {
            await foreach (ChatResponseUpdate update in client.GetStreamingResponseAsync(Hello, cancellationToken: Token))
            {
                text.Append(update.Text);
            }

            return (text.ToString(), null);
        }
#pragma warning disable CA1031 // the test looks at whatever the stream threw
        catch (Exception ex)
#pragma warning restore CA1031
        {
            return (text.ToString(), ex);
        }
    }

    /// <summary>Reads the server's wait from the raw 429 response the official client attaches to its exception.</summary>
    private static TimeSpan? RetryAfterFromClientResult(Exception exception)
    {
        if (exception is not ClientResultException { Status: 429 or 503 } failure || failure.GetRawResponse() is not { } response)
        {
            return null;
        }

        if (response.Headers.TryGetValue("retry-after-ms", out string? ms)
            && double.TryParse(ms, NumberStyles.Float, CultureInfo.InvariantCulture, out double milliseconds))
        {
            return TimeSpan.FromMilliseconds(milliseconds);
        }

        return response.Headers.TryGetValue("retry-after", out string? seconds)
            && long.TryParse(seconds, NumberStyles.None, CultureInfo.InvariantCulture, out long wait)
            ? TimeSpan.FromSeconds(wait)
            : null;
    }

    private async Task TripPrimaryAsync(IChatClient chat)
    {
        PrimaryModel.Always(FakeLlmBehavior.ServerError());
        for (int i = 0; i < Threshold; i++)
        {
            await Assert.ThrowsAsync<ClientResultException>(() => chat.GetResponseAsync(Hello, cancellationToken: Token));
        }
    }

    [Fact]
    public async Task GetResponseAsync_PrimaryReturns500s_OpensItsCircuit_TheCheaperModelAnswers_AndItsCircuitStaysClosed()
    {
        CircuitBreakerRegistry registry = NewRegistry();
        using IChatClient chat = ProtectedChat(registry);
        PrimaryModel.Always(FakeLlmBehavior.ServerError());

        for (int i = 1; i <= Threshold; i++)
        {
            ClientResultException error = await Assert.ThrowsAsync<ClientResultException>(() => chat.GetResponseAsync(Hello, cancellationToken: Token));
            Assert.Equal(500, error.Status);
            Assert.Equal(i, PrimaryModel.Requests); // retries are off: one call, one request
        }

        Assert.Equal(CircuitState.Open, registry.Get(PrimaryKey).State);
        ChatResponse response = await chat.GetResponseAsync(Hello, cancellationToken: Token);

        Assert.Equal(FakeModel.DefaultReply(Cheaper), response.Text);
        Assert.Equal(Cheaper, response.ModelId);
        Assert.Equal(Threshold, PrimaryModel.Requests); // the open circuit kept the request away from the primary
        Assert.Equal(1, CheaperModel.Requests);
        IReadOnlyDictionary<string, CircuitState> status = registry.Status();
        Assert.Equal(CircuitState.Open, status[PrimaryKey]);
        Assert.Equal(CircuitState.Closed, status[CheaperKey]);
        Assert.Equal(1, registry.Get(CheaperKey).GetSummary().Successful);
        Assert.Equal(Threshold, registry.Get(PrimaryKey).GetSummary().Failed);
        Assert.Equal(1, registry.Get(PrimaryKey).GetSummary().Rejected);
    }

    [Fact]
    public async Task GetResponseAsync_RequestNamesTheModel_TheFallbackStillAsksForTheCheaperModel()
    {
        CircuitBreakerRegistry registry = NewRegistry();
        using IChatClient chat = ProtectedChat(registry);
        var options = new ChatOptions { ModelId = Primary };
        PrimaryModel.Always(FakeLlmBehavior.ServerError());
        for (int i = 0; i < Threshold; i++)
        {
            await Assert.ThrowsAsync<ClientResultException>(() => chat.GetResponseAsync(Hello, options, Token));
        }

        ChatResponse response = await chat.GetResponseAsync(Hello, options, Token);

        Assert.Equal(FakeModel.DefaultReply(Cheaper), response.Text);
        Assert.Equal(Threshold, PrimaryModel.Requests);
        Assert.Equal(1, CheaperModel.Requests);
    }

    [Fact]
    public async Task GetResponseAsync_AfterTheOpenPeriod_SuccessfulProbesCloseTheCircuit()
    {
        CircuitBreakerRegistry registry = NewRegistry();
        using IChatClient chat = ProtectedChat(registry);
        CircuitBreaker circuit = registry.Get(PrimaryKey);
        await TripPrimaryAsync(chat);
        PrimaryModel.Always(FakeLlmBehavior.Reply("Back."));

        _time.Advance(OpenPeriod - Tick);
        Assert.Equal(FakeModel.DefaultReply(Cheaper), (await chat.GetResponseAsync(Hello, cancellationToken: Token)).Text);
        Assert.Equal(Threshold, PrimaryModel.Requests);
        _time.Advance(Tick);

        Assert.Equal("Back.", (await chat.GetResponseAsync(Hello, cancellationToken: Token)).Text);
        Assert.Equal(CircuitState.HalfOpen, circuit.State); // one successful probe of two
        Assert.Equal("Back.", (await chat.GetResponseAsync(Hello, cancellationToken: Token)).Text);
        Assert.Equal(CircuitState.Closed, circuit.State);
        Assert.Equal(
            [(CircuitState.Closed, CircuitState.Open), (CircuitState.Open, CircuitState.HalfOpen), (CircuitState.HalfOpen, CircuitState.Closed)],
            circuit.GetSummary().Transitions.Select(t => (t.From, t.To)));
        Assert.Equal(Threshold + 2, PrimaryModel.Requests);
        Assert.Equal(1, CheaperModel.Requests);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_ServerCutsTheStreamMidway_CountsAFailure()
    {
        CircuitBreakerRegistry registry = NewRegistry();
        using IChatClient chat = ProtectedChat(registry);
        PrimaryModel.Enqueue(FakeLlmBehavior.FailMidway("one two three four five", chunksBeforeFailure: 2));

        (string text, Exception? error) = await ReadStreamAsync(chat);

        Assert.Equal("one two ", text); // what arrived before the cut reached the caller
        Assert.NotNull(error);
        Assert.IsNotType<CircuitOpenException>(error);
        CircuitSummary summary = registry.Get(PrimaryKey).GetSummary();
        Assert.Equal(1, summary.Failed);
        Assert.Equal(0, summary.Successful);
        Assert.Equal(0, CheaperModel.Requests);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_StreamsCutMidway_OpenTheCircuit_ThenTheCheaperModelStreams()
    {
        CircuitBreakerRegistry registry = NewRegistry();
        using IChatClient chat = ProtectedChat(registry);
        PrimaryModel.Always(FakeLlmBehavior.FailMidway("never finished", chunksBeforeFailure: 1));
        for (int i = 0; i < Threshold; i++)
        {
            Assert.NotNull((await ReadStreamAsync(chat)).Error);
        }

        Assert.Equal(CircuitState.Open, registry.Get(PrimaryKey).State);
        (string text, Exception? error) = await ReadStreamAsync(chat);

        Assert.Null(error);
        Assert.Equal(FakeModel.DefaultReply(Cheaper), text);
        Assert.Equal(Threshold, PrimaryModel.Requests);
        Assert.Equal(1, registry.Get(CheaperKey).GetSummary().Successful);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_StreamCompletes_CountsASuccess()
    {
        CircuitBreakerRegistry registry = NewRegistry();
        using IChatClient chat = ProtectedChat(registry);
        PrimaryModel.Always(FakeLlmBehavior.Reply("A complete streamed answer."));

        (string text, Exception? error) = await ReadStreamAsync(chat);

        Assert.Null(error);
        Assert.Equal("A complete streamed answer.", text);
        CircuitSummary summary = registry.Get(PrimaryKey).GetSummary();
        Assert.Equal(1, summary.Successful);
        Assert.Equal(0, summary.Failed);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_CompletedProbeStreams_CloseTheCircuit()
    {
        CircuitBreakerRegistry registry = NewRegistry();
        using IChatClient chat = ProtectedChat(registry);
        await TripPrimaryAsync(chat);
        _time.Advance(OpenPeriod);
        PrimaryModel.Always(FakeLlmBehavior.Reply("Streaming again."));

        Assert.Equal("Streaming again.", (await ReadStreamAsync(chat)).Text);
        Assert.Equal("Streaming again.", (await ReadStreamAsync(chat)).Text);

        Assert.Equal(CircuitState.Closed, registry.Get(PrimaryKey).State);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_CallerCancelsAHangingStream_IsNotAFailure()
    {
        CircuitBreakerRegistry registry = NewRegistry();
        using IChatClient chat = ProtectedChat(registry);
        FakeLlmHang hang = FakeLlmBehavior.Hang();
        PrimaryModel.Enqueue(hang);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Token);

        Task reading = Task.Run(
            async () =>
            {
                await foreach (ChatResponseUpdate update in chat.GetStreamingResponseAsync(Hello, cancellationToken: cts.Token))
                {
                    Assert.Fail("The hanging model sent nothing.");
                }
            },
            Token);
        await hang.Entered.WaitAsync(Token);
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => reading);
        await hang.ClientGone.WaitAsync(Token); // the middleware let the request go
        CircuitSummary summary = registry.Get(PrimaryKey).GetSummary();
        Assert.Equal(0, summary.Failed);
        Assert.Equal(1, summary.Ignored);
    }

    [Fact]
    public async Task GetResponseAsync_RateLimited_TheAdapterThrowsClientResultExceptionWithTheRawResponse()
    {
        CircuitBreakerRegistry registry = NewRegistry();
        using IChatClient chat = ProtectedChat(registry, withFallback: false);
        PrimaryModel.Enqueue(FakeLlmBehavior.RateLimited(TimeSpan.FromSeconds(90)));

        ClientResultException error = await Assert.ThrowsAsync<ClientResultException>(() => chat.GetResponseAsync(Hello, cancellationToken: Token));

        Assert.Equal(429, error.Status);
        Assert.Equal(TimeSpan.FromSeconds(90), RetryAfterFromClientResult(error));
        Assert.IsNotType<IRetryAfterHint>(error, exactMatch: false); // so the breaker needs an extractor to see the wait
    }

    [Fact]
    public async Task GetResponseAsync_RateLimitedWithRetryAfterExtractor_KeepsTheCircuitOpenAsLongAsTheServerAsked()
    {
        TimeSpan asked = TimeSpan.FromSeconds(90); // longer than the 60 s open period
        CircuitBreakerRegistry registry = NewRegistry(RetryAfterFromClientResult);
        using IChatClient chat = ProtectedChat(registry);
        CircuitBreaker circuit = registry.Get(PrimaryKey);
        PrimaryModel.Always(FakeLlmBehavior.RateLimited(asked));
        for (int i = 0; i < Threshold; i++)
        {
            Assert.Equal(429, (await Assert.ThrowsAsync<ClientResultException>(() => chat.GetResponseAsync(Hello, cancellationToken: Token))).Status);
        }

        Assert.Equal(asked, circuit.GetSummary().RetryAfter);
        _time.Advance(OpenPeriod);
        Assert.Equal(CircuitState.Open, circuit.State); // the open period alone would have ended here
        _time.Advance(asked - OpenPeriod - Tick);
        Assert.Equal(FakeModel.DefaultReply(Cheaper), (await chat.GetResponseAsync(Hello, cancellationToken: Token)).Text);
        Assert.Equal(Threshold, PrimaryModel.Requests);

        _time.Advance(Tick);
        Assert.Equal(CircuitState.HalfOpen, circuit.State);
        PrimaryModel.Always(FakeLlmBehavior.Reply("Quota restored."));
        Assert.Equal("Quota restored.", (await chat.GetResponseAsync(Hello, cancellationToken: Token)).Text);
        Assert.Equal("Quota restored.", (await chat.GetResponseAsync(Hello, cancellationToken: Token)).Text);
        Assert.Equal(CircuitState.Closed, circuit.State);
    }

    [Fact]
    public async Task GetResponseAsync_RateLimitedWithoutAnExtractor_ReopensAfterTheOpenPeriodOnly()
    {
        // The contrast: without the extractor the server's 90 s are not seen, and the circuit probes after 60 s.
        CircuitBreakerRegistry registry = NewRegistry();
        using IChatClient chat = ProtectedChat(registry);
        PrimaryModel.Always(FakeLlmBehavior.RateLimited(TimeSpan.FromSeconds(90)));
        for (int i = 0; i < Threshold; i++)
        {
            await Assert.ThrowsAsync<ClientResultException>(() => chat.GetResponseAsync(Hello, cancellationToken: Token));
        }

        _time.Advance(OpenPeriod);

        Assert.Equal(CircuitState.HalfOpen, registry.Get(PrimaryKey).State);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_RateLimitedProbeWithRetryAfterExtractor_ReopensForTheServersTime()
    {
        CircuitBreakerRegistry registry = NewRegistry(RetryAfterFromClientResult);
        using IChatClient chat = ProtectedChat(registry);
        CircuitBreaker circuit = registry.Get(PrimaryKey);
        await TripPrimaryAsync(chat);
        _time.Advance(OpenPeriod);
        PrimaryModel.Always(FakeLlmBehavior.RateLimited(("retry-after-ms", "150000")));

        (_, Exception? error) = await ReadStreamAsync(chat);

        Assert.Equal(429, Assert.IsType<ClientResultException>(error).Status);
        Assert.Equal(CircuitState.Open, circuit.State);
        _time.Advance(TimeSpan.FromSeconds(150) - Tick);
        Assert.Equal(CircuitState.Open, circuit.State);
        _time.Advance(Tick);
        Assert.Equal(CircuitState.HalfOpen, circuit.State);
    }

    [Fact]
    public async Task GetResponseAsync_FallbackOnFailure_TheCheaperModelAnswersEachServerError()
    {
        CircuitBreakerRegistry registry = NewRegistry(fallbackOnFailure: true);
        using IChatClient chat = ProtectedChat(registry);
        PrimaryModel.Always(FakeLlmBehavior.ServerError());

        for (int i = 0; i < Threshold; i++)
        {
            Assert.Equal(FakeModel.DefaultReply(Cheaper), (await chat.GetResponseAsync(Hello, cancellationToken: Token)).Text);
        }

        Assert.Equal(CircuitState.Open, registry.Get(PrimaryKey).State);
        Assert.Equal(Threshold, PrimaryModel.Requests);
        Assert.Equal(Threshold, CheaperModel.Requests);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_FallbackOnFailure_AStreamRefusedWith500_IsStreamedByTheCheaperModel()
    {
        CircuitBreakerRegistry registry = NewRegistry(fallbackOnFailure: true);
        using IChatClient chat = ProtectedChat(registry);
        PrimaryModel.Enqueue(FakeLlmBehavior.ServerError());

        (string text, Exception? error) = await ReadStreamAsync(chat);

        Assert.Null(error);
        Assert.Equal(FakeModel.DefaultReply(Cheaper), text);
        Assert.Equal(1, registry.Get(PrimaryKey).GetSummary().Failed);
        Assert.Equal(1, registry.Get(CheaperKey).GetSummary().Successful);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_FallbackOnFailure_AStreamCutMidway_StillFailsForTheCaller()
    {
        CircuitBreakerRegistry registry = NewRegistry(fallbackOnFailure: true);
        using IChatClient chat = ProtectedChat(registry);
        PrimaryModel.Enqueue(FakeLlmBehavior.FailMidway("one two three four", chunksBeforeFailure: 2));

        (string text, Exception? error) = await ReadStreamAsync(chat);

        Assert.NotNull(error);
        Assert.Equal("one two ", text);
        Assert.Equal(0, CheaperModel.Requests);
    }
}
