using Microsoft.Extensions.Time.Testing;
using Tripswitch.Controller;
using Tripswitch.Health;
using Xunit;

namespace Tripswitch.Tests.Health;

public class TimeWindowRuleTests
{
    private static CircuitBreaker Create(FakeTimeProvider time, TimeSpan sampling, int minimumThroughput, double ratio, Action<CircuitBreakerOptions>? more = null, [System.Runtime.CompilerServices.CallerMemberName] string test = "")
        => TestBreakers.CreateUnique(
            time,
            o =>
            {
                o.Rule = FailureRule.TimeWindow;
                o.SamplingDuration = sampling;
                o.MinimumThroughput = minimumThroughput;
                o.FailureRatio = ratio;
                o.RecoveryTimeout = TimeSpan.FromSeconds(5);
                more?.Invoke(o);
            },
            test);

    [Fact]
    public void Execute_PollyDefaults_OpensAtTenPercentOfHundredCalls()
    {
        // FailureRatio 0.1, MinimumThroughput 100, SamplingDuration 30 s: Polly v8's defaults.
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = TestBreakers.CreateUnique(time, o => o.Rule = FailureRule.TimeWindow);

        TestBreakers.Succeed(breaker, 90);
        TestBreakers.Fail(breaker, 9); // 99 calls: below the minimum throughput
        Assert.Equal(CircuitState.Closed, breaker.State);

        TestBreakers.Fail(breaker); // 10 of 100 = 0.1

        Assert.Equal(CircuitState.Open, breaker.State);
    }

    [Fact]
    public void Execute_PollyDefaults_NineFailuresInHundredCalls_StaysClosed()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = TestBreakers.CreateUnique(time, o => o.Rule = FailureRule.TimeWindow);

        TestBreakers.Fail(breaker, 9);
        TestBreakers.Succeed(breaker, 91);
        TestBreakers.Fail(breaker); // 10 of 101 < 0.1

        Assert.Equal(CircuitState.Closed, breaker.State);
    }

    [Fact]
    public void Execute_FailuresOlderThanSamplingDuration_NoLongerCount()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = Create(time, TimeSpan.FromSeconds(10), minimumThroughput: 4, ratio: 0.5);

        TestBreakers.ExecuteFailing(breaker);
        TestBreakers.ExecuteFailing(breaker);
        TestBreakers.ExecuteFailing(breaker); // 3 calls: below the minimum throughput
        time.Advance(TimeSpan.FromSeconds(10));

        TestBreakers.ExecuteFailing(breaker); // alone in the window now: 1 call

        Assert.Equal(CircuitState.Closed, breaker.State);
    }

    [Fact]
    public void Execute_FailuresWellWithinSamplingDuration_StillCount()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = Create(time, TimeSpan.FromSeconds(10), minimumThroughput: 4, ratio: 0.5);

        TestBreakers.ExecuteFailing(breaker);
        TestBreakers.ExecuteFailing(breaker);
        TestBreakers.ExecuteFailing(breaker);
        time.Advance(TimeSpan.FromSeconds(8.5));

        TestBreakers.ExecuteFailing(breaker); // 4 failures within 10 s

        Assert.Equal(CircuitState.Open, breaker.State);
    }

    [Fact]
    public void Execute_FailuresYoungerThanSamplingDurationLessOneBucket_StillCount()
    {
        // 10 s in 10 buckets of 1 s. Failures at 0.9 s (late in the first bucket) are 8.1 s old at 9 s: younger than
        // the sampling duration even after losing a whole bucket to the granularity, so they must still count.
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = Create(time, TimeSpan.FromSeconds(10), minimumThroughput: 4, ratio: 0.5);
        time.Advance(TimeSpan.FromSeconds(0.9));
        TestBreakers.Fail(breaker, 3);

        time.Advance(TimeSpan.FromSeconds(8.1));
        TestBreakers.Fail(breaker);

        Assert.Equal(CircuitState.Open, breaker.State);
    }

    [Fact]
    public void Execute_BucketsRollOneByOne_OnlyTheExpiredBucketDropsOut()
    {
        // Sampling 10 s in buckets of 1 s; 2 failures at t=0 and 1 at t=5 s. At t=11 s the first pair is older than
        // the sampling duration, the later failure (6 s old) is not.
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = Create(time, TimeSpan.FromSeconds(10), minimumThroughput: 4, ratio: 0.75);
        TestBreakers.Fail(breaker, 2);
        time.Advance(TimeSpan.FromSeconds(5));
        TestBreakers.Fail(breaker); // 3 calls, below the minimum
        time.Advance(TimeSpan.FromSeconds(6));

        TestBreakers.Succeed(breaker);
        TestBreakers.Fail(breaker); // window: F(5 s) S F = 3 calls: below the minimum, had the old pair counted: 5 calls, 0.8

        Assert.Equal(CircuitState.Closed, breaker.State);
        TestBreakers.Fail(breaker); // F S F F = 0.75

        Assert.Equal(CircuitState.Open, breaker.State);
    }

    [Fact]
    public async Task ExecuteAsync_FailuresAcrossBucketsWithinWindow_Opens()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = Create(time, TimeSpan.FromSeconds(30), minimumThroughput: 3, ratio: 1.0);

        await TestBreakers.ExecuteFailingAsync(breaker);
        time.Advance(TimeSpan.FromSeconds(7));
        await TestBreakers.ExecuteFailingAsync(breaker);
        time.Advance(TimeSpan.FromSeconds(7));
        Assert.Equal(CircuitState.Closed, breaker.State);
        await TestBreakers.ExecuteFailingAsync(breaker);

        Assert.Equal(CircuitState.Open, breaker.State);
    }

    [Fact]
    public async Task ExecuteAsync_FailuresOlderThanSamplingDuration_NoLongerCount()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = Create(time, TimeSpan.FromSeconds(30), minimumThroughput: 3, ratio: 1.0);

        await TestBreakers.ExecuteFailingAsync(breaker);
        await TestBreakers.ExecuteFailingAsync(breaker);
        time.Advance(TimeSpan.FromSeconds(31));
        await TestBreakers.ExecuteFailingAsync(breaker);

        Assert.Equal(CircuitState.Closed, breaker.State);
    }

    [Fact]
    public void Execute_MinimumSamplingDuration_RollsEveryTenMilliseconds()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = Create(time, TimeSpan.FromMilliseconds(100), minimumThroughput: 2, ratio: 1.0);

        TestBreakers.Fail(breaker);
        time.Advance(TimeSpan.FromMilliseconds(100));
        TestBreakers.Fail(breaker);
        Assert.Equal(CircuitState.Closed, breaker.State);

        time.Advance(TimeSpan.FromMilliseconds(50));
        TestBreakers.Fail(breaker);
        Assert.Equal(CircuitState.Open, breaker.State);
    }

    [Fact]
    public void Execute_CircuitRecovers_WindowStartsEmpty()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = Create(time, TimeSpan.FromSeconds(30), minimumThroughput: 3, ratio: 0.5, o => o.SuccessThreshold = 1);
        TestBreakers.Fail(breaker, 3);
        Assert.Equal(CircuitState.Open, breaker.State);

        time.Advance(TimeSpan.FromSeconds(5)); // well within the sampling duration
        TestBreakers.Succeed(breaker);
        Assert.Equal(CircuitState.Closed, breaker.State);

        TestBreakers.Fail(breaker, 2); // with the old failures still counted this would be 5 of 5
        Assert.Equal(CircuitState.Closed, breaker.State);
        TestBreakers.Fail(breaker);
        Assert.Equal(CircuitState.Open, breaker.State);
    }

    [Fact]
    public void Execute_ManyIdleSamplingPeriods_WindowKeepsWorking()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = Create(time, TimeSpan.FromSeconds(1), minimumThroughput: 2, ratio: 1.0);

        for (int i = 0; i < 25; i++)
        {
            TestBreakers.Fail(breaker);
            time.Advance(TimeSpan.FromSeconds(1.05));
            Assert.Equal(CircuitState.Closed, breaker.State);
        }

        TestBreakers.Fail(breaker, 2);
        Assert.Equal(CircuitState.Open, breaker.State);
    }

    [Fact]
    public void BucketTimer_WindowNoLongerUsed_DoesNotKeepItAlive()
    {
        var time = new FakeTimeProvider();
        WeakReference<TimeWindowRule> weak = RollOnceThenDrop(time);

        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();

        Assert.False(weak.TryGetTarget(out _), "the bucket timer kept its time window alive");
        time.Advance(TimeSpan.FromSeconds(2)); // the timer finds no window: it disposes itself and calls nothing
    }

    /// <summary>A time window that rolled on its bucket timer, then dropped: only a weak reference is returned.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static WeakReference<TimeWindowRule> RollOnceThenDrop(FakeTimeProvider time)
    {
        var counters = new CallCounters();
        var rule = new TimeWindowRule(TestBreakers.Options(time, "window", o => o.SamplingDuration = TimeSpan.FromSeconds(1)), counters);
        rule.Record(counters.Current, failure: true, slow: false);
        Assert.Equal(1, rule.Current().Failures);
        time.Advance(TimeSpan.FromSeconds(1.05)); // every bucket rolled on the timer: the failure dropped out
        Assert.Equal(0, rule.Current().Failures);
        return new WeakReference<TimeWindowRule>(rule);
    }
}
