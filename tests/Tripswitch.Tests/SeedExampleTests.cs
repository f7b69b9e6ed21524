using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Tripswitch.Tests;

/// <summary>The seed document's examples (shared/seed/circuit-breaker-pattern.md), and the seed bugs Tripswitch fixes.</summary>
public class SeedExampleTests
{
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public void HandsOnExercise_ThresholdThreeAlwaysFailingTenCalls_MatchesTheExpectedResult()
    {
        // breaker = CustomCircuitBreaker(failure_threshold=3, recovery_timeout=30); 10 calls of a function that always fails.
        var breaker = new CircuitBreaker(new CircuitBreakerOptions { FailureThreshold = 3, RecoveryTimeout = TimeSpan.FromSeconds(30), TimeProvider = _time });
        int functionCalls = 0;
        int PotentiallyFailingFunction()
        {
            functionCalls++;
            throw new InvalidOperationException("API Error");
        }

        var raised = new List<Exception>();
        for (int i = 0; i < 10; i++)
        {
            raised.Add(Assert.ThrowsAny<Exception>(() => breaker.Execute(PotentiallyFailingFunction)));
        }

        Assert.All(raised.Take(3), ex => Assert.Equal("API Error", Assert.IsType<InvalidOperationException>(ex).Message));
        Assert.All(raised.Skip(3), ex => Assert.IsType<CircuitOpenException>(ex));
        Assert.Equal(3, functionCalls);

        CircuitSummary summary = breaker.GetSummary(); // {'state': 'open', 'failures': 3, 'success_rate': '0.0%'}
        Assert.Equal(CircuitState.Open, summary.State);
        Assert.Equal(3, summary.ConsecutiveFailures);
        Assert.Equal(0.0, summary.SuccessRate);
        Assert.Equal(7, summary.Rejected);
        Assert.Equal(10, summary.TotalCalls);
        Assert.Equal(3, summary.Failed);
        Assert.Contains("success_rate=0.0%", summary.ToString(), StringComparison.Ordinal);
        Assert.Single(summary.Transitions);
    }

    [Fact]
    public void BasicBreaker_OpenMessage_LooksLikeTheSeeds()
    {
        // Python: f"Circuit is open. Retry after {self._time_until_retry():.1f}s"
        var breaker = new CircuitBreaker(new CircuitBreakerOptions { Name = "openai", FailureThreshold = 1, RecoveryTimeout = TimeSpan.FromSeconds(60), TimeProvider = _time });
        TestBreakers.Fail(breaker);
        _time.Advance(TimeSpan.FromMilliseconds(47_700));

        var ex = Assert.Throws<CircuitOpenException>(() => breaker.Execute(() => "never"));

        Assert.Equal("Circuit 'openai' is open. Retry after 12.3s", ex.Message);
    }

    [Fact]
    public void WithFallback_SeedUsage_ReturnsTheFallbackOnceOpen()
    {
        // protected_api = CircuitBreakerWithFallback(failure_threshold=3, recovery_timeout=30, fallback_fn=fallback_response)
        var breaker = new CircuitBreaker(new CircuitBreakerOptions { FailureThreshold = 3, RecoveryTimeout = TimeSpan.FromSeconds(30), TimeProvider = _time });
        static string Fallback(Exception _) => "I'm temporarily unavailable. Please try again later.";

        var results = new List<string>();
        for (int i = 0; i < 5; i++)
        {
            try
            {
                results.Add(breaker.Execute(() => throw new InvalidOperationException("503"), Fallback));
            }
            catch (InvalidOperationException ex)
            {
                results.Add($"Error: {ex.Message}");
            }
        }

        Assert.Equal(["Error: 503", "Error: 503", "Error: 503", Fallback(null!), Fallback(null!)], results);
    }

    [Fact]
    public void Registry_SeedUsage_SeparateBreakersPerEndpointAndStatus()
    {
        var registry = new CircuitBreakerRegistry(new CircuitBreakerOptions { FailureThreshold = 5, TimeProvider = _time });

        Assert.Equal("hello", registry.Execute("openai/gpt-4.1", () => "hello"));
        Assert.Equal("hi", registry.Execute("openai/gpt-4.1-mini", () => "hi"));
        for (int i = 0; i < 5; i++)
        {
            Assert.Throws<InvalidOperationException>(() => registry.Execute("openai/gpt-4.1", () => throw new InvalidOperationException()));
        }

        IReadOnlyDictionary<string, CircuitState> status = registry.Status();
        Assert.Equal(2, status.Count);
        Assert.Equal(CircuitState.Open, status["openai/gpt-4.1"]);
        Assert.Equal(CircuitState.Closed, status["openai/gpt-4.1-mini"]);
    }

    [Fact]
    public async Task AsyncBreaker_SeedUsage_TripsAndRecovers()
    {
        var breaker = new CircuitBreaker(new CircuitBreakerOptions { TimeProvider = _time });
        CancellationToken ct = TestContext.Current.CancellationToken;

        for (int i = 0; i < 5; i++)
        {
            await Assert.ThrowsAsync<HttpRequestException>(async () => await breaker.ExecuteAsync<string>(
                async _ =>
                {
                    await Task.Yield();
                    throw new HttpRequestException("500");
                },
                ct));
        }

        await Assert.ThrowsAsync<CircuitOpenException>(async () => await breaker.ExecuteAsync(_ => ValueTask.FromResult("x"), ct));
        _time.Advance(TimeSpan.FromSeconds(60));
        Assert.Equal("ok", await breaker.ExecuteAsync(_ => ValueTask.FromResult("ok"), ct));
        Assert.Equal("ok", await breaker.ExecuteAsync(_ => ValueTask.FromResult("ok"), ct));
        Assert.Equal(CircuitState.Closed, breaker.State);
    }

    [Fact]
    public void Metrics_SeedCounters_SuccessRateFromSuccessfulOverExecuted()
    {
        var breaker = new CircuitBreaker(new CircuitBreakerOptions { FailureThreshold = 100, TimeProvider = _time });
        for (int i = 0; i < 7; i++)
        {
            breaker.Execute(() => i);
        }

        for (int i = 0; i < 3; i++)
        {
            Assert.Throws<InvalidOperationException>(() => breaker.Execute(() => throw new InvalidOperationException()));
        }

        CircuitSummary summary = breaker.GetSummary();
        Assert.Equal(0.7, summary.SuccessRate, 12);
        Assert.Contains("success_rate=70.0%", summary.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void SeedBugFixed_HalfOpenLetsOnlyOneCallerThrough()
    {
        // The seed's half-open state let every caller through; the default here admits one probe.
        var breaker = new CircuitBreaker(new CircuitBreakerOptions { FailureThreshold = 1, TimeProvider = _time });
        TestBreakers.Fail(breaker);
        _time.Advance(TimeSpan.FromSeconds(60));

        Assert.True(breaker.TryAcquirePermit(out CircuitPermit probe, out _));
        for (int i = 0; i < 10; i++)
        {
            Assert.False(breaker.TryAcquirePermit(out _, out _));
        }

        probe.RecordSuccess();
    }

    [Fact]
    public void SeedBugFixed_TimeComesFromTheTimeProviderNotTheWallClock()
    {
        var breaker = new CircuitBreaker(new CircuitBreakerOptions { FailureThreshold = 1, RecoveryTimeout = TimeSpan.FromSeconds(1), TimeProvider = _time });
        TestBreakers.Fail(breaker);

        // Only the fake clock moves; however long the real machine takes, the circuit stays open until it does.
        Assert.Equal(CircuitState.Open, breaker.State);
        Assert.Equal(TimeSpan.FromSeconds(1), breaker.GetSummary().RetryAfter);
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(CircuitState.HalfOpen, breaker.State);
    }

    [Fact]
    public async Task SeedBugFixed_CallersOwnCancellationIsNotAFailure()
    {
        var breaker = new CircuitBreaker(new CircuitBreakerOptions { FailureThreshold = 1, TimeProvider = _time });
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await breaker.ExecuteAsync(
            ct =>
            {
                ct.ThrowIfCancellationRequested();
                return ValueTask.FromResult(0);
            },
            cts.Token));

        Assert.Equal(CircuitState.Closed, breaker.State);
        Assert.Equal(0, breaker.GetSummary().Failed);
    }
}
