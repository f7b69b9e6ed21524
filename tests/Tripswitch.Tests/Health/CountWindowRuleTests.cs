using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Tripswitch.Tests.Health;

public class CountWindowRuleTests
{
    private static CircuitBreaker Create(FakeTimeProvider time, int windowSize, int minimumThroughput, double ratio, Action<CircuitBreakerOptions>? more = null, [System.Runtime.CompilerServices.CallerMemberName] string test = "")
        => TestBreakers.CreateUnique(
            time,
            o =>
            {
                o.Rule = FailureRule.CountWindow;
                o.WindowSize = windowSize;
                o.MinimumThroughput = minimumThroughput;
                o.FailureRatio = ratio;
                o.RecoveryTimeout = TimeSpan.FromSeconds(10);
                more?.Invoke(o);
            },
            test);

    [Fact]
    public void Execute_AllFailuresBelowMinimumThroughput_StaysClosed()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = Create(time, windowSize: 10, minimumThroughput: 5, ratio: 0.5);

        for (int i = 0; i < 4; i++)
        {
            TestBreakers.ExecuteFailing(breaker);
        }

        Assert.Equal(CircuitState.Closed, breaker.State);
        TestBreakers.ExecuteFailing(breaker);
        Assert.Equal(CircuitState.Open, breaker.State);
    }

    [Fact]
    public void Execute_RatioReachedExactly_Opens()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = Create(time, windowSize: 10, minimumThroughput: 4, ratio: 0.5);

        breaker.Execute(() => { });
        breaker.Execute(() => { });
        TestBreakers.ExecuteFailing(breaker);
        Assert.Equal(CircuitState.Closed, breaker.State); // 3 calls: below the minimum throughput

        TestBreakers.ExecuteFailing(breaker); // 2 of 4 = 0.5

        Assert.Equal(CircuitState.Open, breaker.State);
    }

    [Fact]
    public void Execute_RatioJustBelowThreshold_StaysClosed()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = Create(time, windowSize: 10, minimumThroughput: 10, ratio: 0.5);

        TestBreakers.Succeed(breaker, 6);
        TestBreakers.Fail(breaker, 4); // 4 of 10 = 0.4

        Assert.Equal(CircuitState.Closed, breaker.State);
        Assert.Equal(4, breaker.GetSummary().ConsecutiveFailures); // the consecutive count alone never trips a window rule
    }

    [Fact]
    public void Execute_InterleavedFailuresWithoutConsecutiveRun_OpensOnRatio()
    {
        // The window counts failures that are not in a row: S F S F S F → 3 of 6 = 0.5.
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = Create(time, windowSize: 6, minimumThroughput: 6, ratio: 0.5);

        for (int i = 0; i < 2; i++)
        {
            TestBreakers.Succeed(breaker);
            TestBreakers.Fail(breaker);
        }

        TestBreakers.Succeed(breaker);
        Assert.Equal(CircuitState.Closed, breaker.State);
        TestBreakers.Fail(breaker);

        Assert.Equal(CircuitState.Open, breaker.State);
        Assert.Equal(1, breaker.GetSummary().ConsecutiveFailures);
    }

    [Fact]
    public void Execute_OldOutcomesBeyondWindowSize_AreEvicted()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = Create(time, windowSize: 4, minimumThroughput: 4, ratio: 0.5);

        TestBreakers.Fail(breaker, 3); // below the minimum throughput
        TestBreakers.Succeed(breaker, 4); // the window is now S S S S: the 3 failures were evicted

        TestBreakers.Fail(breaker); // S S S F = 0.25 (cumulatively it would be 4 of 8 = 0.5)
        Assert.Equal(CircuitState.Closed, breaker.State);

        TestBreakers.Fail(breaker); // S S F F = 0.5
        Assert.Equal(CircuitState.Open, breaker.State);
    }

    [Fact]
    public async Task ExecuteAsync_FailureRatioOverWindow_Opens()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = Create(time, windowSize: 5, minimumThroughput: 5, ratio: 0.6);

        await breaker.ExecuteAsync(async ct => await Task.Yield(), TestContext.Current.CancellationToken);
        await breaker.ExecuteAsync(async ct => await Task.Yield(), TestContext.Current.CancellationToken);
        await TestBreakers.ExecuteFailingAsync(breaker);
        await TestBreakers.ExecuteFailingAsync(breaker);
        Assert.Equal(CircuitState.Closed, breaker.State);
        await TestBreakers.ExecuteFailingAsync(breaker); // 3 of 5 = 0.6

        Assert.Equal(CircuitState.Open, breaker.State);
        await Assert.ThrowsAsync<CircuitOpenException>(async () => await breaker.ExecuteAsync(ct => ValueTask.FromResult(1), TestContext.Current.CancellationToken));
    }

    [Fact]
    public void Execute_FailureRatioOne_OpensOnlyWhenEveryCallInWindowFailed()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = Create(time, windowSize: 3, minimumThroughput: 3, ratio: 1.0);

        TestBreakers.Succeed(breaker);
        TestBreakers.Fail(breaker, 2); // S F F
        Assert.Equal(CircuitState.Closed, breaker.State);

        TestBreakers.Fail(breaker); // F F F
        Assert.Equal(CircuitState.Open, breaker.State);
    }

    [Fact]
    public void Execute_IgnoredOutcomes_DoNotCountInWindow()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = Create(time, windowSize: 4, minimumThroughput: 2, ratio: 1.0, o => o.ShouldHandle = ex => ex is not ArgumentException);

        TestBreakers.Fail(breaker);
        Assert.Throws<ArgumentException>(() => breaker.Execute(() => throw new ArgumentException("not handled")));
        Assert.Equal(CircuitState.Closed, breaker.State); // 1 call in the window: below the minimum

        TestBreakers.Fail(breaker);
        Assert.Equal(CircuitState.Open, breaker.State);
        Assert.Equal(1, breaker.GetSummary().Ignored);
    }

    [Fact]
    public void Execute_CircuitRecovers_WindowStartsEmpty()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = Create(time, windowSize: 4, minimumThroughput: 4, ratio: 0.5, o => o.SuccessThreshold = 1);
        TestBreakers.Succeed(breaker, 2);
        TestBreakers.Fail(breaker, 2);
        Assert.Equal(CircuitState.Open, breaker.State);

        time.Advance(TimeSpan.FromSeconds(10));
        TestBreakers.Succeed(breaker); // the probe closes the circuit
        Assert.Equal(CircuitState.Closed, breaker.State);

        // Were the old outcomes kept, S S F F + F F would be far over 0.5; an empty window needs 4 calls first.
        TestBreakers.Fail(breaker, 3);
        Assert.Equal(CircuitState.Closed, breaker.State);
        TestBreakers.Fail(breaker);
        Assert.Equal(CircuitState.Open, breaker.State);
    }

    [Fact]
    public void RecordFailure_StaleCallFromBeforeTheTrip_DoesNotCountInTheNewWindow()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = Create(time, windowSize: 2, minimumThroughput: 2, ratio: 1.0, o => o.SuccessThreshold = 1);
        CircuitPermit stale = breaker.AcquirePermit();
        TestBreakers.Fail(breaker, 2);
        time.Advance(TimeSpan.FromSeconds(10));
        TestBreakers.Succeed(breaker); // closed again, window empty

        stale.RecordFailure(new TestFailureException());
        TestBreakers.Fail(breaker);

        Assert.Equal(CircuitState.Closed, breaker.State); // only one failure of this closed period is in the window
        Assert.Equal(4, breaker.GetSummary().Failed); // the stale failure is still counted in the metrics
    }
}
