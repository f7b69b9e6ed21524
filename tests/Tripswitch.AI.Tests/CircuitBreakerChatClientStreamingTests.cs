using Microsoft.Extensions.AI;
using Microsoft.Extensions.Time.Testing;
using Tripswitch.AI.Tests.Infrastructure;
using Xunit;
using static Tripswitch.AI.Tests.Infrastructure.Circuits;

namespace Tripswitch.AI.Tests;

/// <summary>Streamed responses are judged whole: completed is a success, broken midway a failure, abandoned neither.</summary>
public sealed class CircuitBreakerChatClientStreamingTests
{
    private const string Key = "test/model-a";
    private readonly FakeTimeProvider _time = new();
    private readonly ScriptedChatClient _inner = new();
    private readonly ScriptedChatClient _fallback = new("test", "model-cheap");
    private CircuitBreakerRegistry _registry;

    public CircuitBreakerChatClientStreamingTests() => _registry = Registry(_time);

    private CircuitBreaker Circuit => _registry.Get(Key);

    private CircuitBreakerChatClient Client(bool withFallback = false)
        => new(_inner, _registry, new CircuitBreakerChatClientOptions
        {
            FallbackClient = withFallback ? _fallback : null,
            FallbackModelId = withFallback ? "model-cheap" : null,
        });

    private async Task TripAsync(CircuitBreakerChatClient client)
    {
        _inner.AlwaysThrow(new InvalidOperationException("HTTP 500"));
        while (Circuit.State == CircuitState.Closed)
        {
            await Assert.ThrowsAsync<InvalidOperationException>(() => client.GetResponseAsync(Hello, cancellationToken: Token));
        }
    }

    [Fact]
    public async Task GetStreamingResponseAsync_StreamCompletes_PassesEveryUpdateAndCountsOneSuccess()
    {
        _inner.StreamWith = (_, ct) => Streams.Of(["one ", "two ", "three"], ct);
        using CircuitBreakerChatClient client = Client();

        List<string> texts = await Streams.ReadAllAsync(client.GetStreamingResponseAsync(Hello, cancellationToken: Token), Token);

        Assert.Equal(["one ", "two ", "three"], texts);
        CircuitSummary summary = Circuit.GetSummary();
        Assert.Equal(1, summary.Successful);
        Assert.Equal(0, summary.Failed);
        Assert.Equal(1, summary.TotalCalls);
    }

    [Fact]
    public void GetStreamingResponseAsync_NotEnumerated_TakesNoPermitAndCallsNothing()
    {
        using CircuitBreakerChatClient client = Client();

        _ = client.GetStreamingResponseAsync(Hello, cancellationToken: Token);

        Assert.Equal(0, _inner.Calls);
        Assert.Equal(0, Circuit.GetSummary().TotalCalls);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_StreamFailsMidway_CallerGetsTheUpdatesThenTheExceptionAndItCountsAsAFailure()
    {
        var cut = new HttpIOException(HttpRequestError.ResponseEnded, "The response ended prematurely.");
        _inner.StreamWith = (_, _) => Streams.ThenThrow(2, cut);
        using CircuitBreakerChatClient client = Client();
        var received = new List<string>();

        HttpIOException thrown = await Assert.ThrowsAsync<HttpIOException>(async () =>
        {
            await foreach (ChatResponseUpdate update in client.GetStreamingResponseAsync(Hello, cancellationToken: Token))
            {
                received.Add(update.Text);
            }
        });

        Assert.Same(cut, thrown);
        Assert.Equal(["part 1", "part 2"], received);
        CircuitSummary summary = Circuit.GetSummary();
        Assert.Equal(1, summary.Failed);
        Assert.Equal(0, summary.Successful);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_TwoStreamsFailMidway_OpenTheCircuit()
    {
        _inner.StreamWith = (_, _) => Streams.ThenThrow(1, new HttpIOException(HttpRequestError.ResponseEnded));
        using CircuitBreakerChatClient client = Client();

        for (int i = 0; i < 2; i++)
        {
            await Assert.ThrowsAsync<HttpIOException>(() => Streams.ReadAllAsync(client.GetStreamingResponseAsync(Hello, cancellationToken: Token), Token));
        }

        Assert.Equal(CircuitState.Open, Circuit.State);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_StreamFailsBeforeItsFirstUpdate_CountsAFailure()
    {
        _inner.StreamWith = (_, _) => Streams.ThenThrow(0, new InvalidOperationException("HTTP 500"));
        using CircuitBreakerChatClient client = Client();

        await Assert.ThrowsAsync<InvalidOperationException>(() => Streams.ReadAllAsync(client.GetStreamingResponseAsync(Hello, cancellationToken: Token), Token));

        Assert.Equal(1, Circuit.GetSummary().Failed);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_InnerThrowsWhenAskedForTheStream_CountsAFailure()
    {
        _inner.StreamWith = (_, _) => throw new InvalidOperationException("no stream at all");
        using CircuitBreakerChatClient client = Client();

        await Assert.ThrowsAsync<InvalidOperationException>(() => Streams.ReadAllAsync(client.GetStreamingResponseAsync(Hello, cancellationToken: Token), Token));

        Assert.Equal(1, Circuit.GetSummary().Failed);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_FailureMidwayWithARetryAfterHint_KeepsTheCircuitOpenForTheHint()
    {
        _registry = Registry(_time, o => o.FailureThreshold = 1);
        TimeSpan asked = TimeSpan.FromSeconds(75);
        _inner.StreamWith = (_, _) => Streams.ThenThrow(1, new RetryAfterHintException(asked));
        using CircuitBreakerChatClient client = Client();

        await Assert.ThrowsAsync<RetryAfterHintException>(() => Streams.ReadAllAsync(client.GetStreamingResponseAsync(Hello, cancellationToken: Token), Token));

        _time.Advance(asked - Tick);
        Assert.Equal(CircuitState.Open, Circuit.State);
        _time.Advance(Tick);
        Assert.Equal(CircuitState.HalfOpen, Circuit.State);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_ConsumerStopsEarly_NeitherSuccessNorFailure_AndTheInnerStreamIsDisposed()
    {
        _registry = Registry(_time, o => o.FailureThreshold = 1);
        var tracker = new StreamTracker();
        _inner.StreamWith = (_, ct) => Streams.Tracked(tracker, ["one ", "two ", "three"], ct);
        using CircuitBreakerChatClient client = Client();

        await foreach (ChatResponseUpdate update in client.GetStreamingResponseAsync(Hello, cancellationToken: Token))
        {
            break;
        }

        Assert.Equal(1, tracker.Yielded);
        Assert.False(tracker.Finished);
        Assert.True(tracker.Disposed);
        CircuitSummary summary = Circuit.GetSummary();
        Assert.Equal(CircuitState.Closed, summary.State);
        Assert.Equal(0, summary.Successful);
        Assert.Equal(0, summary.Failed);
        Assert.Equal(1, summary.Ignored);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_ProbeStreamAbandoned_FreesTheProbeSlotWithoutDeciding()
    {
        using CircuitBreakerChatClient client = Client();
        await TripAsync(client);
        _time.Advance(Recovery);
        _inner.StreamWith = (_, ct) => Streams.Of(["one ", "two"], ct);

        await foreach (ChatResponseUpdate update in client.GetStreamingResponseAsync(Hello, cancellationToken: Token))
        {
            break; // the probe's consumer walks away
        }

        Assert.Equal(CircuitState.HalfOpen, Circuit.State); // nothing decided
        _inner.AlwaysReply("probe two");
        Assert.Equal("probe two", (await client.GetResponseAsync(Hello, cancellationToken: Token)).Text); // the slot was freed
        Assert.Equal(CircuitState.Closed, Circuit.State);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_CallerCancelsMidway_IsIgnored()
    {
        _registry = Registry(_time, o => o.FailureThreshold = 1);
        var gate = new TaskCompletionSource();
        _inner.StreamWith = (_, ct) => Streams.Gated(gate.Task, ["one "], ["two"], cancellationToken: ct);
        using CircuitBreakerChatClient client = Client();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Token);
        var received = new List<string>();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (ChatResponseUpdate update in client.GetStreamingResponseAsync(Hello, cancellationToken: cts.Token))
            {
                received.Add(update.Text);
                await cts.CancelAsync();
            }
        });

        Assert.Equal(["one "], received);
        CircuitSummary summary = Circuit.GetSummary();
        Assert.Equal(CircuitState.Closed, summary.State);
        Assert.Equal(0, summary.Failed);
        Assert.Equal(1, summary.Ignored);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_CallerCancelsThroughWithCancellation_IsIgnored()
    {
        _registry = Registry(_time, o => o.FailureThreshold = 1);
        var gate = new TaskCompletionSource();
        var waiting = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _inner.StreamWith = (_, ct) => Streams.Gated(gate.Task, [], ["never"], waiting, ct);
        using CircuitBreakerChatClient client = Client();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Token);

#pragma warning disable xUnit1051 // on purpose: the token comes only through WithCancellation
        Task<List<string>> reading = Streams.ReadAllAsync(client.GetStreamingResponseAsync(Hello), cts.Token);
#pragma warning restore xUnit1051
        await waiting.Task.WaitAsync(Token);
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => reading);
        Assert.Equal(0, Circuit.GetSummary().Failed);
        Assert.Equal(1, Circuit.GetSummary().Ignored);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_CircuitOpenWithoutFallback_ThrowsCircuitOpenExceptionBeforeAnyUpdate()
    {
        using CircuitBreakerChatClient client = Client();
        await TripAsync(client);
        int callsBefore = _inner.Calls;
        var received = new List<string>();

        CircuitOpenException rejected = await Assert.ThrowsAsync<CircuitOpenException>(async () =>
        {
            await foreach (ChatResponseUpdate update in client.GetStreamingResponseAsync(Hello, cancellationToken: Token))
            {
                received.Add(update.Text);
            }
        });

        Assert.Empty(received);
        Assert.Equal(Key, rejected.CircuitName);
        Assert.Equal(Recovery, rejected.RetryAfter);
        Assert.Equal(callsBefore, _inner.Calls);
        Assert.Equal(1, Circuit.GetSummary().Rejected);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_CircuitOpenWithFallback_StreamsTheFallbacksAnswerForTheFallbackModel()
    {
        using CircuitBreakerChatClient client = Client(withFallback: true);
        await TripAsync(client);
        int callsBefore = _inner.Calls;
        _fallback.StreamWith = (options, ct) => Streams.Of(["cheap ", $"answer from {options?.ModelId}"], ct);

        List<string> texts = await Streams.ReadAllAsync(client.GetStreamingResponseAsync(Hello, new ChatOptions { ModelId = "model-a" }, Token), Token);

        Assert.Equal(["cheap ", "answer from model-cheap"], texts);
        Assert.Equal(callsBefore, _inner.Calls);
        Assert.Equal(1, Circuit.GetSummary().Rejected);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_ProbeStreamRunning_OtherStreamsGetTheFallback_ThenTheProbesCompletionClosesTheCircuit()
    {
        using CircuitBreakerChatClient client = Client(withFallback: true);
        await TripAsync(client);
        _time.Advance(Recovery);
        var gate = new TaskCompletionSource();
        _inner.StreamWith = (_, ct) => Streams.Gated(gate.Task, ["probe "], ["done"], cancellationToken: ct);
        await using IAsyncEnumerator<ChatResponseUpdate> probe = client.GetStreamingResponseAsync(Hello, cancellationToken: Token).GetAsyncEnumerator(Token);
        Assert.True(await probe.MoveNextAsync());
        Assert.Equal("probe ", probe.Current.Text);

        List<string> other = await Streams.ReadAllAsync(client.GetStreamingResponseAsync(Hello, cancellationToken: Token), Token);
        Assert.Equal(["streamed ", "answer"], other); // the fallback's default stream
        Assert.Equal(1, _fallback.Calls);
        Assert.Equal(CircuitState.HalfOpen, Circuit.State);

        ValueTask<bool> next = probe.MoveNextAsync();
        gate.SetResult();
        Assert.True(await next);
        Assert.False(await probe.MoveNextAsync());
        Assert.Equal(CircuitState.Closed, Circuit.State);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_ProbeStreamFailsMidway_ReopensTheCircuit()
    {
        using CircuitBreakerChatClient client = Client();
        await TripAsync(client);
        _time.Advance(Recovery);
        _inner.StreamWith = (_, _) => Streams.ThenThrow(3, new HttpIOException(HttpRequestError.ResponseEnded));

        await Assert.ThrowsAsync<HttpIOException>(() => Streams.ReadAllAsync(client.GetStreamingResponseAsync(Hello, cancellationToken: Token), Token));

        Assert.Equal(CircuitState.Open, Circuit.State);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_ExceptionShouldHandleRejects_PassesThroughUncounted()
    {
        _registry = Registry(_time, o =>
        {
            o.FailureThreshold = 1;
            o.ShouldHandle = ex => ex is not ArgumentException;
        });
        _inner.StreamWith = (_, _) => Streams.ThenThrow(1, new ArgumentException("content filter"));
        using CircuitBreakerChatClient client = Client();

        await Assert.ThrowsAsync<ArgumentException>(() => Streams.ReadAllAsync(client.GetStreamingResponseAsync(Hello, cancellationToken: Token), Token));

        Assert.Equal(CircuitState.Closed, Circuit.State);
        Assert.Equal(1, Circuit.GetSummary().Ignored);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_InnerStreamThrowsWhenDisposed_TheProbeSlotIsStillFreed()
    {
        using CircuitBreakerChatClient client = Client();
        await TripAsync(client);
        _time.Advance(Recovery);
        long failedBefore = Circuit.GetSummary().Failed;
        var disposeFailure = new InvalidOperationException("the connection could not be closed cleanly");
        _inner.StreamWith = (_, _) => Streams.ThrowingOnDispose(["one ", "two"], disposeFailure);

        InvalidOperationException thrown = await Assert.ThrowsAsync<InvalidOperationException>(async () =>
        {
            await foreach (ChatResponseUpdate update in client.GetStreamingResponseAsync(Hello, cancellationToken: Token))
            {
                break;
            }
        });

        Assert.Same(disposeFailure, thrown);
        Assert.Equal(failedBefore, Circuit.GetSummary().Failed); // the consumer stopped reading: the model is not to blame
        _inner.AlwaysReply("next probe");
        Assert.Equal("next probe", (await client.GetResponseAsync(Hello, cancellationToken: Token)).Text); // the slot was freed
        Assert.Equal(CircuitState.Closed, Circuit.State);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_ProbeStreamHangsPastTheProbeTimeout_ReopensTheCircuit_AndItsLateEndChangesNothing()
    {
        _registry = Registry(_time, o => o.HalfOpenProbeTimeout = TimeSpan.FromSeconds(10));
        using CircuitBreakerChatClient client = Client();
        await TripAsync(client);
        _time.Advance(Recovery);
        var gate = new TaskCompletionSource();
        _inner.StreamWith = (_, ct) => Streams.Gated(gate.Task, ["probe "], ["finally"], cancellationToken: ct);
        await using IAsyncEnumerator<ChatResponseUpdate> probe = client.GetStreamingResponseAsync(Hello, cancellationToken: Token).GetAsyncEnumerator(Token);
        Assert.True(await probe.MoveNextAsync());
        ValueTask<bool> next = probe.MoveNextAsync(); // the model stalls mid-answer

        _time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(CircuitState.Open, Circuit.State); // the hung probe cannot keep the circuit half-open

        gate.SetResult();
        Assert.True(await next);
        Assert.False(await probe.MoveNextAsync());
        Assert.Equal(CircuitState.Open, Circuit.State); // its late success is too late
        Assert.IsType<CircuitOpenException>(await Record.ExceptionAsync(() => client.GetResponseAsync(Hello, cancellationToken: Token)));
    }
}
