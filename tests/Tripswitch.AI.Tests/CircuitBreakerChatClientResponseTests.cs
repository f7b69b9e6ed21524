using Microsoft.Extensions.AI;
using Microsoft.Extensions.Time.Testing;
using Tripswitch.AI.Tests.Infrastructure;
using Xunit;
using static Tripswitch.AI.Tests.Infrastructure.Circuits;

namespace Tripswitch.AI.Tests;

/// <summary>Non-streaming requests: what counts as a success or a failure, and what a rejection looks like.</summary>
public sealed class CircuitBreakerChatClientResponseTests
{
    private const string Key = "test/model-a";
    private readonly FakeTimeProvider _time = new();
    private readonly ScriptedChatClient _inner = new();

    private CircuitBreakerRegistry _registry;

    public CircuitBreakerChatClientResponseTests() => _registry = Registry(_time);

    private CircuitBreaker Circuit => _registry.Get(Key);

    [Fact]
    public async Task GetResponseAsync_InnerAnswers_ReturnsItsResponseAndCountsASuccess()
    {
        ChatResponse answer = ScriptedChatClient.Reply("hi");
        _inner.Respond = (_, _) => Task.FromResult(answer);
        using var client = new CircuitBreakerChatClient(_inner, _registry);

        ChatResponse response = await client.GetResponseAsync(Hello, cancellationToken: Token);

        Assert.Same(answer, response);
        CircuitSummary summary = Circuit.GetSummary();
        Assert.Equal(1, summary.Successful);
        Assert.Equal(0, summary.Failed);
    }

    [Fact]
    public async Task GetResponseAsync_InnerThrows_RethrowsTheSameExceptionAndCountsAFailure()
    {
        var failure = new HttpRequestException("HTTP 500");
        _inner.AlwaysThrow(failure);
        using var client = new CircuitBreakerChatClient(_inner, _registry);

        HttpRequestException thrown = await Assert.ThrowsAsync<HttpRequestException>(() => client.GetResponseAsync(Hello, cancellationToken: Token));

        Assert.Same(failure, thrown);
        CircuitSummary summary = Circuit.GetSummary();
        Assert.Equal(1, summary.Failed);
        Assert.Equal(1, summary.ConsecutiveFailures);
        Assert.Equal(CircuitState.Closed, summary.State);
    }

    [Fact]
    public async Task GetResponseAsync_InnerThrowsSynchronously_CountsAFailure()
    {
        _inner.Respond = (_, _) => throw new InvalidOperationException("not even a task");
        using var client = new CircuitBreakerChatClient(_inner, _registry);

        await Assert.ThrowsAsync<InvalidOperationException>(() => client.GetResponseAsync(Hello, cancellationToken: Token));

        Assert.Equal(1, Circuit.GetSummary().Failed);
    }

    [Fact]
    public async Task GetResponseAsync_ASuccessBetweenFailures_ResetsTheConsecutiveCount()
    {
        using var client = new CircuitBreakerChatClient(_inner, _registry);

        _inner.AlwaysThrow(new InvalidOperationException("boom"));
        await Assert.ThrowsAsync<InvalidOperationException>(() => client.GetResponseAsync(Hello, cancellationToken: Token));
        _inner.AlwaysReply("ok");
        await client.GetResponseAsync(Hello, cancellationToken: Token);
        _inner.AlwaysThrow(new InvalidOperationException("boom"));
        await Assert.ThrowsAsync<InvalidOperationException>(() => client.GetResponseAsync(Hello, cancellationToken: Token));

        Assert.Equal(CircuitState.Closed, Circuit.State);
        Assert.Equal(1, Circuit.GetSummary().ConsecutiveFailures);
    }

    [Fact]
    public async Task GetResponseAsync_CircuitOpen_ThrowsCircuitOpenExceptionWithoutCallingTheInnerClient()
    {
        _inner.AlwaysThrow(new InvalidOperationException("boom"));
        using var client = new CircuitBreakerChatClient(_inner, _registry);
        for (int i = 0; i < 2; i++)
        {
            await Assert.ThrowsAsync<InvalidOperationException>(() => client.GetResponseAsync(Hello, cancellationToken: Token));
        }

        _time.Advance(TimeSpan.FromSeconds(10));
        CircuitOpenException rejected = await Assert.ThrowsAsync<CircuitOpenException>(() => client.GetResponseAsync(Hello, cancellationToken: Token));

        Assert.Equal(2, _inner.Calls);
        Assert.Equal(Key, rejected.CircuitName);
        Assert.Equal(CircuitState.Open, rejected.State);
        Assert.Equal(TimeSpan.FromSeconds(20), rejected.RetryAfter);
        Assert.Equal("Circuit 'test/model-a' is open. Retry after 20.0s", rejected.Message);
        Assert.Equal(1, Circuit.GetSummary().Rejected);
    }

    [Fact]
    public async Task GetResponseAsync_AfterTheOpenPeriod_ASuccessfulProbeClosesTheCircuit()
    {
        _inner.AlwaysThrow(new InvalidOperationException("boom"));
        using var client = new CircuitBreakerChatClient(_inner, _registry);
        for (int i = 0; i < 2; i++)
        {
            await Assert.ThrowsAsync<InvalidOperationException>(() => client.GetResponseAsync(Hello, cancellationToken: Token));
        }

        _time.Advance(Recovery - Tick);
        await Assert.ThrowsAsync<CircuitOpenException>(() => client.GetResponseAsync(Hello, cancellationToken: Token));
        _time.Advance(Tick);
        _inner.AlwaysReply("back");

        Assert.Equal("back", (await client.GetResponseAsync(Hello, cancellationToken: Token)).Text);
        Assert.Equal(CircuitState.Closed, Circuit.State);
        Assert.Equal(3, _inner.Calls);
    }

    [Fact]
    public async Task GetResponseAsync_FailedProbe_ReopensTheCircuit()
    {
        _inner.AlwaysThrow(new InvalidOperationException("boom"));
        using var client = new CircuitBreakerChatClient(_inner, _registry);
        for (int i = 0; i < 2; i++)
        {
            await Assert.ThrowsAsync<InvalidOperationException>(() => client.GetResponseAsync(Hello, cancellationToken: Token));
        }

        _time.Advance(Recovery);
        await Assert.ThrowsAsync<InvalidOperationException>(() => client.GetResponseAsync(Hello, cancellationToken: Token));

        Assert.Equal(CircuitState.Open, Circuit.State);
        Assert.Equal(Recovery, (await Assert.ThrowsAsync<CircuitOpenException>(() => client.GetResponseAsync(Hello, cancellationToken: Token))).RetryAfter);
    }

    [Fact]
    public async Task GetResponseAsync_WhileTheOnlyProbeRuns_OtherRequestsAreRejectedAsHalfOpen()
    {
        _inner.AlwaysThrow(new InvalidOperationException("boom"));
        using var client = new CircuitBreakerChatClient(_inner, _registry);
        for (int i = 0; i < 2; i++)
        {
            await Assert.ThrowsAsync<InvalidOperationException>(() => client.GetResponseAsync(Hello, cancellationToken: Token));
        }

        _time.Advance(Recovery);
        var answer = new TaskCompletionSource<ChatResponse>(TaskCreationOptions.RunContinuationsAsynchronously);
        _inner.Respond = (_, _) => answer.Task;
        Task<ChatResponse> probe = client.GetResponseAsync(Hello, cancellationToken: Token);

        CircuitOpenException rejected = await Assert.ThrowsAsync<CircuitOpenException>(() => client.GetResponseAsync(Hello, cancellationToken: Token));
        Assert.Equal(CircuitState.HalfOpen, rejected.State);
        Assert.Equal(3, _inner.Calls);

        answer.SetResult(ScriptedChatClient.Reply("probe ok"));
        Assert.Equal("probe ok", (await probe).Text);
        Assert.Equal(CircuitState.Closed, Circuit.State);
    }

    [Fact]
    public async Task GetResponseAsync_CallersCancellation_IsNeitherSuccessNorFailure()
    {
        _registry = Registry(_time, o => o.FailureThreshold = 1);
        var never = new TaskCompletionSource<ChatResponse>();
        _inner.Respond = (_, ct) => never.Task.WaitAsync(ct);
        using var client = new CircuitBreakerChatClient(_inner, _registry);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Token);

        Task<ChatResponse> call = client.GetResponseAsync(Hello, cancellationToken: cts.Token);
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        CircuitSummary summary = Circuit.GetSummary();
        Assert.Equal(CircuitState.Closed, summary.State);
        Assert.Equal(0, summary.Failed);
        Assert.Equal(1, summary.Ignored);
    }

    [Fact]
    public async Task GetResponseAsync_CancellationTheCallerDidNotAskFor_IsAFailure()
    {
        // HttpClient's own timeout surfaces as a TaskCanceledException while the caller's token is not cancelled.
        _registry = Registry(_time, o => o.FailureThreshold = 1);
        _inner.AlwaysThrow(new TaskCanceledException("The request was canceled due to the configured HttpClient.Timeout."));
        using var client = new CircuitBreakerChatClient(_inner, _registry);

        await Assert.ThrowsAsync<TaskCanceledException>(() => client.GetResponseAsync(Hello, cancellationToken: Token));

        Assert.Equal(1, Circuit.GetSummary().Failed);
        Assert.Equal(CircuitState.Open, Circuit.State);
    }

    [Fact]
    public async Task GetResponseAsync_ExceptionShouldHandleRejects_PassesThroughUncounted()
    {
        _registry = Registry(_time, o =>
        {
            o.FailureThreshold = 1;
            o.ShouldHandle = ex => ex is not ArgumentException;
        });
        _inner.AlwaysThrow(new ArgumentException("bad prompt: the caller's fault, not the model's"));
        using var client = new CircuitBreakerChatClient(_inner, _registry);

        await Assert.ThrowsAsync<ArgumentException>(() => client.GetResponseAsync(Hello, cancellationToken: Token));

        CircuitSummary summary = Circuit.GetSummary();
        Assert.Equal(CircuitState.Closed, summary.State);
        Assert.Equal(0, summary.Failed);
        Assert.Equal(1, summary.Ignored);
    }

    [Fact]
    public async Task GetResponseAsync_FailureWithARetryAfterHint_KeepsTheCircuitOpenForTheHint()
    {
        TimeSpan asked = TimeSpan.FromSeconds(90); // longer than the 30 s recovery timeout
        _inner.AlwaysThrow(new RetryAfterHintException(asked));
        using var client = new CircuitBreakerChatClient(_inner, _registry);
        for (int i = 0; i < 2; i++)
        {
            await Assert.ThrowsAsync<RetryAfterHintException>(() => client.GetResponseAsync(Hello, cancellationToken: Token));
        }

        Assert.Equal(asked, (await Assert.ThrowsAsync<CircuitOpenException>(() => client.GetResponseAsync(Hello, cancellationToken: Token))).RetryAfter);
        _time.Advance(asked - Tick);
        Assert.Equal(CircuitState.Open, Circuit.State);
        _time.Advance(Tick);
        Assert.Equal(CircuitState.HalfOpen, Circuit.State);
    }

    [Fact]
    public async Task GetResponseAsync_SlowCallThreshold_ASlowAnswerCountsAsAFailure()
    {
        _registry = Registry(_time, o =>
        {
            o.FailureThreshold = 1;
            o.SlowCallThreshold = TimeSpan.FromSeconds(10);
        });
        _inner.Respond = async (_, _) =>
        {
            await Task.Yield();
            _time.Advance(TimeSpan.FromSeconds(11));
            return ScriptedChatClient.Reply("late");
        };
        using var client = new CircuitBreakerChatClient(_inner, _registry);

        Assert.Equal("late", (await client.GetResponseAsync(Hello, cancellationToken: Token)).Text);

        Assert.Equal(CircuitState.Open, Circuit.State);
        Assert.Equal(1, Circuit.GetSummary().SlowCalls);
    }

    [Fact]
    public void GetService_FindsTheMiddlewareAndTheInnerClientsMetadata()
    {
        using var client = new CircuitBreakerChatClient(_inner, _registry);

        Assert.Same(client, client.GetService<CircuitBreakerChatClient>());
        Assert.Same(_inner.Metadata, client.GetService<ChatClientMetadata>());
    }

    [Fact]
    public void Constructor_NullRegistry_Throws()
        => Assert.Equal("registry", Assert.Throws<ArgumentNullException>(() => new CircuitBreakerChatClient(_inner, null!)).ParamName);
}
