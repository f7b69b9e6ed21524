using Microsoft.Extensions.Time.Testing;
using Polly;
using Polly.Retry;
using Tripswitch.Polly;

namespace Tripswitch.Polly.Tests;

/// <summary>The strategy in real Polly pipelines: outcomes, rejection, and where it sits relative to a retry.</summary>
public class TripswitchResilienceStrategyTests
{
    private static CircuitBreaker Breaker(FakeTimeProvider time, int failureThreshold = 3)
        => new(new CircuitBreakerOptions { Name = "upstream", FailureThreshold = failureThreshold, RecoveryTimeout = TimeSpan.FromSeconds(30), TimeProvider = time });

    [Fact]
    public void Execute_FailuresTripTheCircuit_ThenRejectsWithCircuitOpenExceptionWithoutRunningTheCallback()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = Breaker(time);
        ResiliencePipeline pipeline = new ResiliencePipelineBuilder().AddTripswitch(breaker).Build();
        int calls = 0;

        for (int i = 0; i < 3; i++)
        {
            Assert.Throws<InvalidOperationException>(() => pipeline.Execute(() =>
            {
                calls++;
                throw new InvalidOperationException("upstream failed");
            }));
        }

        CircuitOpenException rejected = Assert.Throws<CircuitOpenException>(() => pipeline.Execute(() => calls++));
        Assert.Equal(3, calls);
        Assert.Equal("upstream", rejected.CircuitName);
        Assert.Equal(TimeSpan.FromSeconds(30), rejected.RetryAfter);
        Assert.Equal((3L, 1L), (breaker.GetSummary().Failed, breaker.GetSummary().Rejected));
    }

    [Fact]
    public async Task ExecuteAsync_SuccessResetsTheConsecutiveCount()
    {
        CircuitBreaker breaker = Breaker(new FakeTimeProvider());
        ResiliencePipeline<int> pipeline = new ResiliencePipelineBuilder<int>().AddTripswitch(breaker).Build();

        await Assert.ThrowsAsync<InvalidOperationException>(async () => await pipeline.ExecuteAsync<int>(_ => throw new InvalidOperationException(), TestContext.Current.CancellationToken));
        Assert.Equal(7, await pipeline.ExecuteAsync(_ => ValueTask.FromResult(7), TestContext.Current.CancellationToken));

        CircuitSummary summary = breaker.GetSummary();
        Assert.Equal((1L, 1L, 0), (summary.Successful, summary.Failed, summary.ConsecutiveFailures));
    }

    [Fact]
    public void Execute_FailureResultWithRetryAfter_CountsAndKeepsTheCircuitOpenAsLongAsAsked()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = Breaker(time, failureThreshold: 1);
        ResiliencePipeline<int> pipeline = new ResiliencePipelineBuilder<int>()
            .AddTripswitch(new TripswitchStrategyOptions<int> { Breaker = breaker, IsFailure = status => status == 429, RetryAfter = _ => TimeSpan.FromSeconds(40) })
            .Build();

        Assert.Equal(200, pipeline.Execute(() => 200));
        Assert.Equal(429, pipeline.Execute(() => 429)); // the result reaches the caller, and counts as a failure

        CircuitOpenException rejected = Assert.Throws<CircuitOpenException>(() => pipeline.Execute(() => 200));
        Assert.Equal(TimeSpan.FromSeconds(40), rejected.RetryAfter);
    }

    [Fact]
    public void Execute_IsFailureThrows_CountsAsFailedAndThePredicatesExceptionSurfaces()
    {
        CircuitBreaker breaker = Breaker(new FakeTimeProvider());
        ResiliencePipeline<int> pipeline = new ResiliencePipelineBuilder<int>()
            .AddTripswitch(new TripswitchStrategyOptions<int> { Breaker = breaker, IsFailure = _ => throw new FormatException("rule bug") })
            .Build();

        FormatException error = Assert.Throws<FormatException>(() => pipeline.Execute(() => 1));

        Assert.Equal("rule bug", error.Message);
        Assert.Equal(1L, breaker.GetSummary().Failed);
    }

    [Fact]
    public async Task ExecuteAsync_CallersOwnCancellation_IsNotAFailure()
    {
        CircuitBreaker breaker = Breaker(new FakeTimeProvider(), failureThreshold: 1);
        ResiliencePipeline pipeline = new ResiliencePipelineBuilder().AddTripswitch(breaker).Build();
        using var cancellation = new CancellationTokenSource();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await pipeline.ExecuteAsync(
            ct =>
            {
                cancellation.Cancel();
                ct.ThrowIfCancellationRequested();
                return ValueTask.CompletedTask;
            },
            cancellation.Token));

        Assert.Equal(CircuitState.Closed, breaker.State);
        Assert.Equal(0L, breaker.GetSummary().Failed);
    }

    [Fact]
    public void Execute_ByRegistryKey_UsesThatCircuitOfTheRegistry()
    {
        var registry = new CircuitBreakerRegistry(new CircuitBreakerOptions { FailureThreshold = 1, TimeProvider = new FakeTimeProvider() });
        ResiliencePipeline pipeline = new ResiliencePipelineBuilder().AddTripswitch(registry, "openai/gpt-4.1").Build();

        Assert.Throws<InvalidOperationException>(() => pipeline.Execute(() => throw new InvalidOperationException()));

        Assert.Equal(CircuitState.Open, registry.Status()["openai/gpt-4.1"]);
    }

    [Fact]
    public void Execute_KeySelectorPerExecution_EachKeyHasItsOwnCircuit()
    {
        var model = new ResiliencePropertyKey<string>("model");
        var registry = new CircuitBreakerRegistry(new CircuitBreakerOptions { FailureThreshold = 2, RecoveryTimeout = TimeSpan.FromSeconds(30), TimeProvider = new FakeTimeProvider() });
        ResiliencePipeline pipeline = new ResiliencePipelineBuilder()
            .AddTripswitch(new TripswitchStrategyOptions { Registry = registry, KeySelector = context => context.Properties.GetValue(model, "none") })
            .Build();
        var ran = new List<string>();

        void Run(string key, bool fail)
        {
            ResilienceContext context = ResilienceContextPool.Shared.Get(TestContext.Current.CancellationToken);
            context.Properties.Set(model, key);
            try
            {
                pipeline.Execute(
                    _ =>
                    {
                        ran.Add(key);
                        if (fail)
                        {
                            throw new InvalidOperationException(key + " failed");
                        }
                    },
                    context);
            }
            finally
            {
                ResilienceContextPool.Shared.Return(context);
            }
        }

        // One failure under each key: two failures in a row for the pipeline, but one per circuit, so nothing opens.
        Assert.Throws<InvalidOperationException>(() => Run("a", fail: true));
        Assert.Throws<InvalidOperationException>(() => Run("b", fail: true));
        Assert.Equal(CircuitState.Closed, registry.Status()["a"]);
        Assert.Equal(CircuitState.Closed, registry.Status()["b"]);

        // A second failure under "a" opens "a" only: "b" keeps running its calls.
        Assert.Throws<InvalidOperationException>(() => Run("a", fail: true));
        Run("b", fail: false);
        CircuitOpenException rejected = Assert.Throws<CircuitOpenException>(() => Run("a", fail: false));

        Assert.Equal("a", rejected.CircuitName);
        Assert.Equal(["a", "b", "a", "b"], ran); // the rejected call never ran
        Assert.Equal(CircuitState.Open, registry.Status()["a"]);
        Assert.Equal(CircuitState.Closed, registry.Status()["b"]);
        Assert.Equal((2L, 0L, 1L), (registry.Get("a").GetSummary().Failed, registry.Get("a").GetSummary().Successful, registry.Get("a").GetSummary().Rejected));
        Assert.Equal((1L, 1L, 0L), (registry.Get("b").GetSummary().Failed, registry.Get("b").GetSummary().Successful, registry.Get("b").GetSummary().Rejected));
        Assert.Equal(2, registry.Count);
    }

    [Fact]
    public void AddTripswitch_InvalidOptions_RefusedNamingTheOption()
    {
        var neither = new TripswitchStrategyOptions();
        var noSelector = new TripswitchStrategyOptions { Registry = new CircuitBreakerRegistry() };

        ArgumentNullException missing = Assert.Throws<ArgumentNullException>(() => new ResiliencePipelineBuilder().AddTripswitch(neither));
        ArgumentNullException selector = Assert.Throws<ArgumentNullException>(() => new ResiliencePipelineBuilder().AddTripswitch(noSelector));

        Assert.Equal("Breaker", missing.ParamName);
        Assert.Equal("KeySelector", selector.ParamName);
        Assert.StartsWith("TripswitchStrategyOptions.KeySelector must not be null", selector.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BreakerOutsideTheRetry_OneExecutionIsOneOutcome()
    {
        CircuitBreaker breaker = Breaker(new FakeTimeProvider());
        ResiliencePipeline pipeline = new ResiliencePipelineBuilder()
            .AddTripswitch(breaker) // first added = outermost
            .AddRetry(Retry())
            .Build();
        int attempts = 0;

        Assert.Throws<InvalidOperationException>(() => pipeline.Execute(() =>
        {
            attempts++;
            throw new InvalidOperationException();
        }));

        Assert.Equal(4, attempts); // the first attempt and three retries
        Assert.Equal(1L, breaker.GetSummary().Failed); // one execution, one failure
        Assert.Equal(CircuitState.Closed, breaker.State);
    }

    [Fact]
    public void BreakerInsideTheRetry_EachAttemptIsAnOutcome_AndTheRetryStopsAtTheRejection()
    {
        CircuitBreaker breaker = Breaker(new FakeTimeProvider());
        ResiliencePipeline pipeline = new ResiliencePipelineBuilder()
            .AddRetry(Retry())
            .AddTripswitch(breaker) // inside the retry: every attempt
            .Build();
        int attempts = 0;

        Assert.Throws<CircuitOpenException>(() => pipeline.Execute(() =>
        {
            attempts++;
            throw new InvalidOperationException();
        }));

        Assert.Equal(3, attempts); // the third failed attempt opened the circuit; the fourth was rejected, not retried
        Assert.Equal((3L, 1L), (breaker.GetSummary().Failed, breaker.GetSummary().Rejected));
    }

    /// <summary>Three immediate retries of any failure except a Tripswitch rejection (retrying that would only be rejected again).</summary>
    private static RetryStrategyOptions Retry() => new()
    {
        MaxRetryAttempts = 3,
        Delay = TimeSpan.Zero,
        ShouldHandle = new PredicateBuilder().Handle<Exception>(ex => ex is not CircuitOpenException),
    };
}
