using Microsoft.Extensions.AI;
using Microsoft.Extensions.Time.Testing;
using Tripswitch.AI.Tests.Infrastructure;
using Xunit;
using static Tripswitch.AI.Tests.Infrastructure.Circuits;

namespace Tripswitch.AI.Tests;

/// <summary>TimeToFirstTokenThreshold: a stream whose first update comes late is a slow call, even if it completes.</summary>
public sealed class CircuitBreakerChatClientTimeToFirstTokenTests
{
    private const string Key = "test/model-a";
    private static readonly TimeSpan Threshold = TimeSpan.FromSeconds(2);
    private readonly FakeTimeProvider _time = new();
    private readonly ScriptedChatClient _inner = new();
    private readonly CircuitBreakerRegistry _registry;

    public CircuitBreakerChatClientTimeToFirstTokenTests() => _registry = Registry(_time, o => o.FailureThreshold = 1);

    private CircuitBreaker Circuit => _registry.Get(Key);

    private CircuitBreakerChatClient Client(TimeSpan? threshold)
        => new(_inner, _registry, new CircuitBreakerChatClientOptions { TimeToFirstTokenThreshold = threshold });

    [Fact]
    public async Task GetStreamingResponseAsync_FirstUpdateLaterThanTheThreshold_CountsAsAFailureThoughTheStreamCompleted()
    {
        _inner.StreamWith = (_, _) => Streams.Timed(_time, firstTokenAfter: TimeSpan.FromSeconds(5), between: TimeSpan.Zero, "slow ", "start");
        using CircuitBreakerChatClient client = Client(Threshold);
        CircuitTransition? opened = null;
        Circuit.StateChanged += (_, transition) => opened ??= transition;

        List<string> texts = await Streams.ReadAllAsync(client.GetStreamingResponseAsync(Hello, cancellationToken: Token), Token);

        Assert.Equal(["slow ", "start"], texts); // the caller still gets the whole answer, without an exception
        CircuitSummary summary = Circuit.GetSummary();
        Assert.Equal(0, summary.Successful);
        Assert.Equal(1, summary.Failed);
        Assert.Equal(CircuitState.Open, summary.State);
        TimeoutException cause = Assert.IsType<TimeoutException>(opened?.Cause);
        Assert.Contains("'test/model-a'", cause.Message, StringComparison.Ordinal);
        Assert.Contains("5.0s", cause.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_FirstUpdateExactlyAtTheThreshold_IsASuccess()
    {
        _inner.StreamWith = (_, _) => Streams.Timed(_time, firstTokenAfter: Threshold, between: TimeSpan.Zero, "just ", "in time");
        using CircuitBreakerChatClient client = Client(Threshold);

        await Streams.ReadAllAsync(client.GetStreamingResponseAsync(Hello, cancellationToken: Token), Token);

        Assert.Equal(1, Circuit.GetSummary().Successful);
        Assert.Equal(CircuitState.Closed, Circuit.State);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_FastFirstUpdateThenSlowOnes_IsASuccess()
    {
        // Only the first token is timed: a long answer that starts at once is healthy.
        _inner.StreamWith = (_, _) => Streams.Timed(_time, firstTokenAfter: TimeSpan.FromMilliseconds(100), between: TimeSpan.FromSeconds(30), "a ", "long ", "answer");
        using CircuitBreakerChatClient client = Client(Threshold);

        await Streams.ReadAllAsync(client.GetStreamingResponseAsync(Hello, cancellationToken: Token), Token);

        Assert.Equal(1, Circuit.GetSummary().Successful);
        Assert.Equal(CircuitState.Closed, Circuit.State);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_NoThreshold_ASlowFirstUpdateIsASuccess()
    {
        _inner.StreamWith = (_, _) => Streams.Timed(_time, firstTokenAfter: TimeSpan.FromMinutes(5), between: TimeSpan.Zero, "late");
        using CircuitBreakerChatClient client = Client(threshold: null);

        await Streams.ReadAllAsync(client.GetStreamingResponseAsync(Hello, cancellationToken: Token), Token);

        Assert.Equal(1, Circuit.GetSummary().Successful);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_SlowFirstUpdateOfAProbe_ReopensTheCircuit()
    {
        using CircuitBreakerChatClient client = Client(Threshold);
        _inner.AlwaysThrow(new InvalidOperationException("HTTP 500"));
        await Assert.ThrowsAsync<InvalidOperationException>(() => client.GetResponseAsync(Hello, cancellationToken: Token));
        _time.Advance(Recovery);
        Assert.Equal(CircuitState.HalfOpen, Circuit.State);
        _inner.StreamWith = (_, _) => Streams.Timed(_time, firstTokenAfter: TimeSpan.FromSeconds(3), between: TimeSpan.Zero, "still slow");

        await Streams.ReadAllAsync(client.GetStreamingResponseAsync(Hello, cancellationToken: Token), Token);

        Assert.Equal(CircuitState.Open, Circuit.State);
    }

    [Fact]
    public async Task GetResponseAsync_Threshold_DoesNotTimeNonStreamingCalls()
    {
        _inner.Respond = async (_, _) =>
        {
            await Task.Yield();
            _time.Advance(TimeSpan.FromSeconds(10));
            return ScriptedChatClient.Reply("whole answer");
        };
        using CircuitBreakerChatClient client = Client(Threshold);

        await client.GetResponseAsync(Hello, cancellationToken: Token);

        Assert.Equal(1, Circuit.GetSummary().Successful);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_EmptyStreamEndingAfterTheThreshold_CountsAsAFailure()
    {
        // No first token ever came: waiting 5 s for nothing is no healthier than waiting 5 s for a word.
        _inner.StreamWith = (_, _) => EmptyAfter(TimeSpan.FromSeconds(5));
        using CircuitBreakerChatClient client = Client(Threshold);

        Assert.Empty(await Streams.ReadAllAsync(client.GetStreamingResponseAsync(Hello, cancellationToken: Token), Token));

        Assert.Equal(1, Circuit.GetSummary().Failed);
        Assert.Equal(CircuitState.Open, Circuit.State);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_EmptyStreamEndingWithinTheThreshold_IsASuccess()
    {
        _inner.StreamWith = (_, _) => EmptyAfter(TimeSpan.FromSeconds(1));
        using CircuitBreakerChatClient client = Client(Threshold);

        await Streams.ReadAllAsync(client.GetStreamingResponseAsync(Hello, cancellationToken: Token), Token);

        Assert.Equal(1, Circuit.GetSummary().Successful);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_CallerGivesUpWaitingForTheFirstTokenPastTheThreshold_CountsAsAFailure()
    {
        // The usual way a model that is slow to start shows: the caller's own timeout fires before the first token.
        var waiting = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _inner.StreamWith = (_, ct) => Streams.Gated(new TaskCompletionSource().Task, [], ["never"], waiting, ct);
        using CircuitBreakerChatClient client = Client(Threshold);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Token);
        Exception? cause = null;
        Circuit.StateChanged += (_, transition) => cause ??= transition.Cause;

        Task<List<string>> reading = Streams.ReadAllAsync(client.GetStreamingResponseAsync(Hello, cancellationToken: cts.Token), Token);
        await waiting.Task.WaitAsync(Token);
        _time.Advance(TimeSpan.FromSeconds(30));
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => reading); // the caller still sees its cancellation
        CircuitSummary summary = Circuit.GetSummary();
        Assert.Equal(1, summary.Failed);
        Assert.Equal(0, summary.Ignored);
        Assert.Equal(CircuitState.Open, summary.State);
        Assert.Equal("A streamed response from circuit 'test/model-a' sent no token in 30.0s (threshold 2.0s).", Assert.IsType<TimeoutException>(cause).Message);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_CallerCancelsWithinTheThreshold_IsIgnored()
    {
        var waiting = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _inner.StreamWith = (_, ct) => Streams.Gated(new TaskCompletionSource().Task, [], ["never"], waiting, ct);
        using CircuitBreakerChatClient client = Client(Threshold);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Token);

        Task<List<string>> reading = Streams.ReadAllAsync(client.GetStreamingResponseAsync(Hello, cancellationToken: cts.Token), Token);
        await waiting.Task.WaitAsync(Token);
        _time.Advance(Threshold);
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => reading);
        Assert.Equal(0, Circuit.GetSummary().Failed);
        Assert.Equal(1, Circuit.GetSummary().Ignored);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_CallerCancelsAfterAFastFirstToken_IsIgnored()
    {
        _inner.StreamWith = (_, ct) => Streams.Gated(new TaskCompletionSource().Task, ["quick "], ["never"], cancellationToken: ct);
        using CircuitBreakerChatClient client = Client(Threshold);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Token);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (ChatResponseUpdate update in client.GetStreamingResponseAsync(Hello, cancellationToken: cts.Token))
            {
                _time.Advance(TimeSpan.FromMinutes(1)); // the answer goes on slowly: only the first token is timed
                await cts.CancelAsync();
            }
        });

        Assert.Equal(0, Circuit.GetSummary().Failed);
        Assert.Equal(1, Circuit.GetSummary().Ignored);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_ConsumerStopsAfterASlowFirstToken_CountsAsAFailure()
    {
        _inner.StreamWith = (_, _) => Streams.Timed(_time, firstTokenAfter: TimeSpan.FromSeconds(5), between: TimeSpan.Zero, "late ", "and ", "more");
        using CircuitBreakerChatClient client = Client(Threshold);

        await foreach (ChatResponseUpdate update in client.GetStreamingResponseAsync(Hello, cancellationToken: Token))
        {
            break; // the consumer had what it needed, but the model was slow to start all the same
        }

        Assert.Equal(1, Circuit.GetSummary().Failed);
        Assert.Equal(0, Circuit.GetSummary().Ignored);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_ConsumerStopsAfterAFastFirstToken_IsIgnored()
    {
        _inner.StreamWith = (_, _) => Streams.Timed(_time, firstTokenAfter: TimeSpan.FromSeconds(1), between: TimeSpan.Zero, "quick ", "and ", "more");
        using CircuitBreakerChatClient client = Client(Threshold);

        await foreach (ChatResponseUpdate update in client.GetStreamingResponseAsync(Hello, cancellationToken: Token))
        {
            break;
        }

        Assert.Equal(0, Circuit.GetSummary().Failed);
        Assert.Equal(1, Circuit.GetSummary().Ignored);
    }

    private async IAsyncEnumerable<ChatResponseUpdate> EmptyAfter(TimeSpan delay)
    {
        await Task.Yield();
        _time.Advance(delay);
        yield break;
    }
}
