using Microsoft.Extensions.AI;
using Microsoft.Extensions.Time.Testing;
using Tripswitch.AI.Tests.Infrastructure;
using Xunit;
using static Tripswitch.AI.Tests.Infrastructure.Circuits;

namespace Tripswitch.AI.Tests;

/// <summary>The fallback client: it answers while a model's circuit is open, and after a handled failure with FallbackOnFailure.</summary>
public sealed class CircuitBreakerChatClientFallbackTests
{
    private const string Key = "openai/gpt-4.1";
    private readonly FakeTimeProvider _time = new();
    private readonly ScriptedChatClient _primary = new("openai", "gpt-4.1");
    private readonly ScriptedChatClient _fallback = new("openai", "gpt-4.1-mini");

    private CircuitBreakerChatClient Client(CircuitBreakerRegistry registry, string? fallbackModelId = "gpt-4.1-mini")
        => new(_primary, registry, new CircuitBreakerChatClientOptions { FallbackClient = _fallback, FallbackModelId = fallbackModelId });

    private static async Task TripAsync(CircuitBreakerChatClient client, CircuitBreakerRegistry registry, ChatOptions? options = null)
    {
        CircuitBreaker circuit = registry.Get(Key);
        while (circuit.State == CircuitState.Closed)
        {
            await Assert.ThrowsAnyAsync<Exception>(() => client.GetResponseAsync(Hello, options, Token));
        }
    }

    [Fact]
    public async Task GetResponseAsync_CircuitOpen_FallbackAnswersWithoutCallingThePrimary()
    {
        CircuitBreakerRegistry registry = Registry(_time);
        using CircuitBreakerChatClient client = Client(registry);
        _primary.AlwaysThrow(new InvalidOperationException("HTTP 500"));
        await Assert.ThrowsAsync<InvalidOperationException>(() => client.GetResponseAsync(Hello, cancellationToken: Token));
        await Assert.ThrowsAsync<InvalidOperationException>(() => client.GetResponseAsync(Hello, cancellationToken: Token));
        Assert.Equal(0, _fallback.Calls); // while closed, failures reach the caller (FallbackOnFailure is off)

        ChatResponse response = await client.GetResponseAsync(Hello, cancellationToken: Token);

        Assert.Equal("answer from gpt-4.1-mini", response.Text);
        Assert.Equal(2, _primary.Calls);
        Assert.Equal(1, _fallback.Calls);
        Assert.Equal(1, registry.Get(Key).GetSummary().Rejected);
    }

    [Fact]
    public async Task GetResponseAsync_FallbackGetsTheFallbackModel_NeverThePrimarysModelId()
    {
        CircuitBreakerRegistry registry = Registry(_time);
        using CircuitBreakerChatClient client = Client(registry);
        var request = new ChatOptions { ModelId = "gpt-4.1", Temperature = 0.25f, MaxOutputTokens = 42 };
        _primary.AlwaysThrow(new InvalidOperationException("HTTP 500"));
        await TripAsync(client, registry, request);

        await client.GetResponseAsync(Hello, request, Token);

        ChatOptions? sent = Assert.Single(_fallback.Requests);
        Assert.NotNull(sent);
        Assert.NotSame(request, sent);
        Assert.Equal("gpt-4.1-mini", sent.ModelId);
        Assert.Equal(0.25f, sent.Temperature); // the rest of the request is kept
        Assert.Equal(42, sent.MaxOutputTokens);
        Assert.Equal("gpt-4.1", request.ModelId); // the caller's options are not changed
    }

    [Fact]
    public async Task GetResponseAsync_NoFallbackModelId_FallbackGetsNoModelIdAndUsesItsOwnDefault()
    {
        CircuitBreakerRegistry registry = Registry(_time);
        using CircuitBreakerChatClient client = Client(registry, fallbackModelId: null);
        _primary.AlwaysThrow(new InvalidOperationException("HTTP 500"));
        await TripAsync(client, registry, new ChatOptions { ModelId = "gpt-4.1" });

        ChatResponse withOptions = await client.GetResponseAsync(Hello, new ChatOptions { ModelId = "gpt-4.1", Temperature = 0.5f }, Token);
        ChatResponse withoutOptions = await client.GetResponseAsync(Hello, cancellationToken: Token);

        Assert.Equal("answer from gpt-4.1-mini", withOptions.Text);
        Assert.Equal("answer from gpt-4.1-mini", withoutOptions.Text);
        ChatOptions? sent = _fallback.Requests[0];
        Assert.NotNull(sent);
        Assert.Null(sent.ModelId);
        Assert.Equal(0.5f, sent.Temperature);
        Assert.Null(_fallback.Requests[1]);
    }

    [Fact]
    public async Task GetResponseAsync_NoRequestOptions_FallbackStillGetsTheFallbackModel()
    {
        CircuitBreakerRegistry registry = Registry(_time);
        using CircuitBreakerChatClient client = Client(registry);
        _primary.AlwaysThrow(new InvalidOperationException("HTTP 500"));
        await TripAsync(client, registry);

        await client.GetResponseAsync(Hello, cancellationToken: Token);

        Assert.Equal("gpt-4.1-mini", Assert.Single(_fallback.Requests)?.ModelId);
    }

    [Fact]
    public async Task GetResponseAsync_FallbackFails_ItsExceptionReachesTheCaller()
    {
        CircuitBreakerRegistry registry = Registry(_time);
        using CircuitBreakerChatClient client = Client(registry);
        _primary.AlwaysThrow(new InvalidOperationException("HTTP 500"));
        await TripAsync(client, registry);
        var fallbackFailure = new TimeoutException("the cheap model is down too");
        _fallback.AlwaysThrow(fallbackFailure);

        Assert.Same(fallbackFailure, await Assert.ThrowsAsync<TimeoutException>(() => client.GetResponseAsync(Hello, cancellationToken: Token)));
        Assert.Equal(CircuitState.Open, registry.Get(Key).State);
    }

    [Fact]
    public async Task GetResponseAsync_FallbackOnFailure_FallbackAnswersAHandledFailure()
    {
        CircuitBreakerRegistry registry = Registry(_time, o => o.FallbackOnFailure = true);
        using CircuitBreakerChatClient client = Client(registry);
        _primary.AlwaysThrow(new InvalidOperationException("HTTP 500"));

        ChatResponse response = await client.GetResponseAsync(Hello, new ChatOptions { ModelId = "gpt-4.1" }, Token);

        Assert.Equal("answer from gpt-4.1-mini", response.Text);
        Assert.Equal("gpt-4.1-mini", Assert.Single(_fallback.Requests)?.ModelId);
        CircuitSummary summary = registry.Get(Key).GetSummary();
        Assert.Equal(1, summary.Failed); // the failure still counts
        Assert.Equal(0, summary.Rejected);
    }

    [Fact]
    public async Task GetResponseAsync_FallbackOnFailureOff_AHandledFailureReachesTheCaller()
    {
        CircuitBreakerRegistry registry = Registry(_time);
        using CircuitBreakerChatClient client = Client(registry);
        _primary.AlwaysThrow(new InvalidOperationException("HTTP 500"));

        await Assert.ThrowsAsync<InvalidOperationException>(() => client.GetResponseAsync(Hello, cancellationToken: Token));

        Assert.Equal(0, _fallback.Calls);
    }

    [Fact]
    public async Task GetResponseAsync_FallbackOnFailure_CallersCancellationReachesTheCallerAndSkipsTheFallback()
    {
        CircuitBreakerRegistry registry = Registry(_time, o => o.FallbackOnFailure = true);
        using CircuitBreakerChatClient client = Client(registry);
        var never = new TaskCompletionSource<ChatResponse>();
        _primary.Respond = (_, ct) => never.Task.WaitAsync(ct);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Token);

        Task<ChatResponse> call = client.GetResponseAsync(Hello, cancellationToken: cts.Token);
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        Assert.Equal(0, _fallback.Calls);
        Assert.Equal(0, registry.Get(Key).GetSummary().Failed);
    }

    [Fact]
    public async Task GetResponseAsync_FallbackOnFailure_AnUnhandledExceptionReachesTheCaller()
    {
        CircuitBreakerRegistry registry = Registry(_time, o =>
        {
            o.FallbackOnFailure = true;
            o.ShouldHandle = ex => ex is not ArgumentException;
        });
        using CircuitBreakerChatClient client = Client(registry);
        _primary.AlwaysThrow(new ArgumentException("invalid request"));

        await Assert.ThrowsAsync<ArgumentException>(() => client.GetResponseAsync(Hello, cancellationToken: Token));

        Assert.Equal(0, _fallback.Calls);
    }

    [Fact]
    public async Task GetResponseAsync_HalfOpenAndEveryProbeSlotTaken_FallbackAnswers()
    {
        CircuitBreakerRegistry registry = Registry(_time);
        using CircuitBreakerChatClient client = Client(registry);
        _primary.AlwaysThrow(new InvalidOperationException("HTTP 500"));
        await TripAsync(client, registry);
        _time.Advance(Recovery);
        var answer = new TaskCompletionSource<ChatResponse>(TaskCreationOptions.RunContinuationsAsynchronously);
        _primary.Respond = (_, _) => answer.Task;
        Task<ChatResponse> probe = client.GetResponseAsync(Hello, cancellationToken: Token);

        Assert.Equal("answer from gpt-4.1-mini", (await client.GetResponseAsync(Hello, cancellationToken: Token)).Text);

        answer.SetResult(ScriptedChatClient.Reply("primary is back"));
        Assert.Equal("primary is back", (await probe).Text);
        Assert.Equal(CircuitState.Closed, registry.Get(Key).State);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_FallbackOnFailure_StreamFailingBeforeItsFirstUpdate_TheFallbackStreamsInstead()
    {
        CircuitBreakerRegistry registry = Registry(_time, o => o.FallbackOnFailure = true);
        using CircuitBreakerChatClient client = Client(registry);
        _primary.StreamWith = (_, _) => Streams.ThenThrow(0, new InvalidOperationException("HTTP 500"));
        _fallback.StreamWith = (options, ct) => Streams.Of(["cheap ", $"answer from {options?.ModelId}"], ct);

        List<string> texts = await Streams.ReadAllAsync(client.GetStreamingResponseAsync(Hello, new ChatOptions { ModelId = "gpt-4.1" }, Token), Token);

        Assert.Equal(["cheap ", "answer from gpt-4.1-mini"], texts);
        Assert.Equal(1, registry.Get(Key).GetSummary().Failed);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_FallbackOnFailure_InnerThrowsWhenAskedForTheStream_TheFallbackStreamsInstead()
    {
        CircuitBreakerRegistry registry = Registry(_time, o => o.FallbackOnFailure = true);
        using CircuitBreakerChatClient client = Client(registry);
        _primary.StreamWith = (_, _) => throw new InvalidOperationException("no stream at all");

        List<string> texts = await Streams.ReadAllAsync(client.GetStreamingResponseAsync(Hello, cancellationToken: Token), Token);

        Assert.Equal(["streamed ", "answer"], texts);
        Assert.Equal(1, _fallback.Calls);
        Assert.Equal(1, registry.Get(Key).GetSummary().Failed);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_FallbackOnFailure_StreamFailingAfterAnUpdate_TheFailureReachesTheCaller()
    {
        // The caller already has part of the primary's answer: splicing the fallback's answer onto it would be wrong.
        CircuitBreakerRegistry registry = Registry(_time, o => o.FallbackOnFailure = true);
        using CircuitBreakerChatClient client = Client(registry);
        _primary.StreamWith = (_, _) => Streams.ThenThrow(1, new HttpIOException(HttpRequestError.ResponseEnded));
        var received = new List<string>();

        await Assert.ThrowsAsync<HttpIOException>(async () =>
        {
            await foreach (ChatResponseUpdate update in client.GetStreamingResponseAsync(Hello, cancellationToken: Token))
            {
                received.Add(update.Text);
            }
        });

        Assert.Equal(["part 1"], received);
        Assert.Equal(0, _fallback.Calls);
        Assert.Equal(1, registry.Get(Key).GetSummary().Failed);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_FallbackOnFailureOff_StreamFailingBeforeItsFirstUpdate_TheFailureReachesTheCaller()
    {
        CircuitBreakerRegistry registry = Registry(_time);
        using CircuitBreakerChatClient client = Client(registry);
        _primary.StreamWith = (_, _) => Streams.ThenThrow(0, new InvalidOperationException("HTTP 500"));

        await Assert.ThrowsAsync<InvalidOperationException>(() => Streams.ReadAllAsync(client.GetStreamingResponseAsync(Hello, cancellationToken: Token), Token));

        Assert.Equal(0, _fallback.Calls);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_FallbackOnFailure_CallersCancellationBeforeTheFirstUpdate_SkipsTheFallback()
    {
        CircuitBreakerRegistry registry = Registry(_time, o => o.FallbackOnFailure = true);
        using CircuitBreakerChatClient client = Client(registry);
        var waiting = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _primary.StreamWith = (_, ct) => Streams.Gated(new TaskCompletionSource().Task, [], ["never"], waiting, ct);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Token);

        Task<List<string>> reading = Streams.ReadAllAsync(client.GetStreamingResponseAsync(Hello, cancellationToken: cts.Token), Token);
        await waiting.Task.WaitAsync(Token);
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => reading);
        Assert.Equal(0, _fallback.Calls);
        Assert.Equal(1, registry.Get(Key).GetSummary().Ignored);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_FallbackOnFailure_UnhandledExceptionBeforeTheFirstUpdate_ReachesTheCaller()
    {
        CircuitBreakerRegistry registry = Registry(_time, o =>
        {
            o.FallbackOnFailure = true;
            o.ShouldHandle = ex => ex is not ArgumentException;
        });
        using CircuitBreakerChatClient client = Client(registry);
        _primary.StreamWith = (_, _) => Streams.ThenThrow(0, new ArgumentException("invalid request"));

        await Assert.ThrowsAsync<ArgumentException>(() => Streams.ReadAllAsync(client.GetStreamingResponseAsync(Hello, cancellationToken: Token), Token));

        Assert.Equal(0, _fallback.Calls);
    }
}
