using Microsoft.Extensions.Time.Testing;
using Tripswitch.Tests.Health;
using Xunit;

namespace Tripswitch.Tests.Controller;

public class BackoffTests
{
    [Fact]
    public void Execute_FailedProbesInARow_OpenPeriodMultipliesUpToMax()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = TestBreakers.CreateUnique(time, o =>
        {
            o.FailureThreshold = 1;
            o.SuccessThreshold = 1;
            o.RecoveryTimeout = TimeSpan.FromSeconds(10);
            o.RecoveryBackoffMultiplier = 2;
            o.MaxRecoveryTimeout = TimeSpan.FromSeconds(60);
        });

        TestBreakers.ExecuteFailing(breaker);
        TestBreakers.AssertOpenFor(breaker, time, TimeSpan.FromSeconds(10));
        foreach (int seconds in new[] { 20, 40, 60, 60 })
        {
            TestBreakers.ExecuteFailing(breaker); // the probe fails
            TestBreakers.AssertOpenFor(breaker, time, TimeSpan.FromSeconds(seconds));
        }
    }

    [Fact]
    public async Task ExecuteAsync_FailedProbesInARow_OpenPeriodMultiplies()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = TestBreakers.CreateUnique(time, o =>
        {
            o.FailureThreshold = 1;
            o.RecoveryTimeout = TimeSpan.FromSeconds(4);
            o.RecoveryBackoffMultiplier = 1.5;
        });

        await TestBreakers.ExecuteFailingAsync(breaker);
        TestBreakers.AssertOpenFor(breaker, time, TimeSpan.FromSeconds(4));
        await TestBreakers.ExecuteFailingAsync(breaker);
        TestBreakers.AssertOpenFor(breaker, time, TimeSpan.FromSeconds(6));
        await TestBreakers.ExecuteFailingAsync(breaker);
        TestBreakers.AssertOpenFor(breaker, time, TimeSpan.FromSeconds(9));
    }

    [Fact]
    public void Execute_CircuitClosesAfterBackoff_NextOpenPeriodStartsOver()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = TestBreakers.CreateUnique(time, o =>
        {
            o.FailureThreshold = 1;
            o.SuccessThreshold = 1;
            o.RecoveryTimeout = TimeSpan.FromSeconds(10);
            o.RecoveryBackoffMultiplier = 3;
        });
        TestBreakers.Fail(breaker);
        time.Advance(TimeSpan.FromSeconds(10));
        TestBreakers.Fail(breaker);
        TestBreakers.AssertOpenFor(breaker, time, TimeSpan.FromSeconds(30));

        breaker.Execute(() => { }); // the probe succeeds and closes the circuit
        Assert.Equal(CircuitState.Closed, breaker.State);
        TestBreakers.Fail(breaker);

        TestBreakers.AssertOpenFor(breaker, time, TimeSpan.FromSeconds(10));
    }

    [Fact]
    public void Reset_AfterBackoff_NextOpenPeriodStartsOver()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = TestBreakers.CreateUnique(time, o =>
        {
            o.FailureThreshold = 1;
            o.RecoveryTimeout = TimeSpan.FromSeconds(10);
            o.RecoveryBackoffMultiplier = 2;
        });
        TestBreakers.Fail(breaker);
        time.Advance(TimeSpan.FromSeconds(10));
        TestBreakers.Fail(breaker);
        Assert.Equal(TimeSpan.FromSeconds(20), breaker.GetSummary().RetryAfter);

        breaker.Reset();
        TestBreakers.Fail(breaker);

        Assert.Equal(TimeSpan.FromSeconds(10), breaker.GetSummary().RetryAfter);
    }

    [Fact]
    public void Execute_BackoffWithoutMaxRecoveryTimeout_CappedAtTenMinutes()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = TestBreakers.CreateUnique(time, o =>
        {
            o.FailureThreshold = 1;
            o.RecoveryTimeout = TimeSpan.FromSeconds(60);
            o.RecoveryBackoffMultiplier = 100;
        });
        TestBreakers.Fail(breaker);
        TestBreakers.AssertOpenFor(breaker, time, TimeSpan.FromSeconds(60));

        TestBreakers.Fail(breaker); // 6000 s before the cap

        TestBreakers.AssertOpenFor(breaker, time, TimeSpan.FromMinutes(10));
    }

    [Fact]
    public void Execute_RecoveryTimeoutLongerThanTenMinutesWithoutMax_CapIsRecoveryTimeout()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = TestBreakers.CreateUnique(time, o =>
        {
            o.FailureThreshold = 1;
            o.RecoveryTimeout = TimeSpan.FromMinutes(15);
            o.RecoveryBackoffMultiplier = 2;
        });
        TestBreakers.Fail(breaker);
        TestBreakers.AssertOpenFor(breaker, time, TimeSpan.FromMinutes(15));

        TestBreakers.Fail(breaker);

        TestBreakers.AssertOpenFor(breaker, time, TimeSpan.FromMinutes(15));
    }

    [Fact]
    public void Execute_MaxRecoveryTimeoutEqualToRecoveryTimeout_BackoffHasNoRoom()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = TestBreakers.CreateUnique(time, o =>
        {
            o.FailureThreshold = 1;
            o.RecoveryTimeout = TimeSpan.FromSeconds(30);
            o.MaxRecoveryTimeout = TimeSpan.FromSeconds(30);
            o.RecoveryBackoffMultiplier = 3;
        });
        TestBreakers.Fail(breaker);
        TestBreakers.AssertOpenFor(breaker, time, TimeSpan.FromSeconds(30));

        TestBreakers.Fail(breaker);

        TestBreakers.AssertOpenFor(breaker, time, TimeSpan.FromSeconds(30));
    }

    [Fact]
    public void AcquirePermit_ProbeTimedOut_CountsAsFailedProbeForBackoff()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = TestBreakers.CreateUnique(time, o =>
        {
            o.FailureThreshold = 1;
            o.RecoveryTimeout = TimeSpan.FromSeconds(10);
            o.RecoveryBackoffMultiplier = 2;
            o.HalfOpenProbeTimeout = TimeSpan.FromSeconds(5);
        });
        TestBreakers.Fail(breaker);
        time.Advance(TimeSpan.FromSeconds(10));
        _ = breaker.AcquirePermit(); // a probe that never reports

        time.Advance(TimeSpan.FromSeconds(5));

        TestBreakers.AssertOpenFor(breaker, time, TimeSpan.FromSeconds(20));
    }

    [Fact]
    public void Execute_RecoveryJitter_EachOpenPeriodRandomizedWithinBounds()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = TestBreakers.CreateUnique(time, o =>
        {
            o.FailureThreshold = 1;
            o.RecoveryTimeout = TimeSpan.FromSeconds(10);
            o.RecoveryJitter = 0.5;
        });
        var periods = new HashSet<TimeSpan>();

        for (int i = 0; i < 50; i++)
        {
            TestBreakers.Fail(breaker);
            TimeSpan period = breaker.GetSummary().RetryAfter;
            Assert.InRange(period, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(15));
            periods.Add(period);
            breaker.Reset();
        }

        Assert.True(periods.Count > 10, $"Only {periods.Count} distinct open periods in 50: the jitter is not random.");
        Assert.Contains(periods, p => p < TimeSpan.FromSeconds(10));
        Assert.Contains(periods, p => p > TimeSpan.FromSeconds(10));
    }

    [Fact]
    public void Execute_RecoveryJitter_CircuitReallyStaysOpenForTheJitteredPeriod()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = TestBreakers.CreateUnique(time, o =>
        {
            o.FailureThreshold = 1;
            o.RecoveryTimeout = TimeSpan.FromSeconds(10);
            o.RecoveryJitter = 0.3;
        });
        TestBreakers.Fail(breaker);
        TimeSpan period = breaker.GetSummary().RetryAfter;

        Assert.InRange(period, TimeSpan.FromSeconds(7), TimeSpan.FromSeconds(13));
        Assert.Equal(period, TestBreakers.Rejection(breaker).RetryAfter);
        TestBreakers.AssertOpenFor(breaker, time, period);
    }

    [Fact]
    public void Execute_RecoveryJitterWithBackoff_AppliesToEachBackedOffPeriod()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = TestBreakers.CreateUnique(time, o =>
        {
            o.FailureThreshold = 1;
            o.RecoveryTimeout = TimeSpan.FromSeconds(10);
            o.RecoveryBackoffMultiplier = 4;
            o.MaxRecoveryTimeout = TimeSpan.FromMinutes(5);
            o.RecoveryJitter = 0.2;
        });
        TestBreakers.Fail(breaker);
        TimeSpan first = breaker.GetSummary().RetryAfter;
        Assert.InRange(first, TimeSpan.FromSeconds(8), TimeSpan.FromSeconds(12));
        time.Advance(first);

        TestBreakers.Fail(breaker); // the probe fails: 40 s ± 20 %

        Assert.InRange(breaker.GetSummary().RetryAfter, TimeSpan.FromSeconds(32), TimeSpan.FromSeconds(48));
    }
}
