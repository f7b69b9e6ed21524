using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Tripswitch.Tests.Health;

public class SlowCallTests
{
    private static readonly TimeSpan _threshold = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan _slow = TimeSpan.FromSeconds(1.5);

    [Fact]
    public async Task ExecuteAsync_CallerCancelsACallAlreadySlowerThanTheThreshold_CountsAsSlowFailure()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = TestBreakers.CreateUnique(time, o =>
        {
            o.FailureThreshold = 1;
            o.SlowCallThreshold = _threshold;
        });
        using var cts = new CancellationTokenSource();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await breaker.ExecuteAsync(async ct =>
        {
            time.Advance(_slow); // the upstream hangs past the threshold, then the caller gives up
            await cts.CancelAsync();
            ct.ThrowIfCancellationRequested();
            return 1;
        }, cts.Token));

        CircuitSummary summary = breaker.GetSummary();
        Assert.Equal(CircuitState.Open, summary.State);
        Assert.Equal(1, summary.Failed);
        Assert.Equal(1, summary.SlowCalls);
        Assert.Equal(0, summary.Ignored);
        Assert.IsType<TimeoutException>(summary.Transitions[^1].Cause);
    }

    [Fact]
    public async Task ExecuteAsync_CallerCancelsBeforeTheThreshold_IsIgnored()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = TestBreakers.CreateUnique(time, o =>
        {
            o.FailureThreshold = 1;
            o.SlowCallThreshold = _threshold;
        });
        using var cts = new CancellationTokenSource();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await breaker.ExecuteAsync(async ct =>
        {
            time.Advance(_threshold / 2);
            await cts.CancelAsync();
            ct.ThrowIfCancellationRequested();
            return 1;
        }, cts.Token));

        CircuitSummary summary = breaker.GetSummary();
        Assert.Equal(CircuitState.Closed, summary.State);
        Assert.Equal(0, summary.Failed);
        Assert.Equal(1, summary.Ignored);
    }

    [Fact]
    public void Execute_SlowSuccessfulCalls_CountAsFailuresAndOpen()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = TestBreakers.CreateUnique(time, o =>
        {
            o.FailureThreshold = 2;
            o.SlowCallThreshold = _threshold;
        });

        int first = breaker.Execute(() =>
        {
            time.Advance(_slow);
            return 42;
        });
        Assert.Equal(CircuitState.Closed, breaker.State);
        int second = breaker.Execute(() =>
        {
            time.Advance(_slow);
            return 43;
        });

        Assert.Equal(42, first); // the caller still gets the answer
        Assert.Equal(43, second);
        Assert.Equal(CircuitState.Open, breaker.State);
        CircuitSummary summary = breaker.GetSummary();
        Assert.Equal(0, summary.Successful);
        Assert.Equal(2, summary.Failed);
        Assert.Equal(2, summary.SlowCalls);
    }

    [Fact]
    public async Task ExecuteAsync_SlowSuccessfulCalls_CountAsFailuresAndOpen()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = TestBreakers.CreateUnique(time, o =>
        {
            o.FailureThreshold = 2;
            o.SlowCallThreshold = _threshold;
        });

        for (int i = 0; i < 2; i++)
        {
            int answer = await breaker.ExecuteAsync(
                async ct =>
                {
                    await Task.Yield();
                    time.Advance(_slow);
                    return 7;
                },
                TestContext.Current.CancellationToken);
            Assert.Equal(7, answer);
        }

        Assert.Equal(CircuitState.Open, breaker.State);
        Assert.Equal(2, breaker.GetSummary().SlowCalls);
        Assert.Equal(2, breaker.GetSummary().Failed);
    }

    [Fact]
    public async Task ExecuteAsync_SlowCallCompletingSynchronously_CountsAsFailure()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = TestBreakers.CreateUnique(time, o =>
        {
            o.FailureThreshold = 1;
            o.SlowCallThreshold = _threshold;
        });

        await breaker.ExecuteAsync(
            ct =>
            {
                time.Advance(_slow);
                return ValueTask.CompletedTask;
            },
            TestContext.Current.CancellationToken);

        Assert.Equal(CircuitState.Open, breaker.State);
        Assert.Equal(1, breaker.GetSummary().SlowCalls);
    }

    [Fact]
    public void Execute_CallExactlyAtThreshold_IsNotSlow()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = TestBreakers.CreateUnique(time, o =>
        {
            o.FailureThreshold = 1;
            o.SlowCallThreshold = _threshold;
        });

        breaker.Execute(() => time.Advance(_threshold));

        Assert.Equal(CircuitState.Closed, breaker.State);
        CircuitSummary summary = breaker.GetSummary();
        Assert.Equal(1, summary.Successful);
        Assert.Equal(0, summary.SlowCalls);

        breaker.Execute(() => time.Advance(_threshold + TimeSpan.FromTicks(1)));
        Assert.Equal(CircuitState.Open, breaker.State);
    }

    [Fact]
    public void AcquirePermit_HungUpstreamThatEventuallyAnswers_TripsTheCircuit()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = TestBreakers.CreateUnique(time, o =>
        {
            o.FailureThreshold = 1;
            o.SlowCallThreshold = TimeSpan.FromSeconds(10);
        });
        CircuitPermit permit = breaker.AcquirePermit();

        time.Advance(TimeSpan.FromMinutes(5));
        permit.RecordSuccess();

        Assert.Equal(CircuitState.Open, breaker.State);
        Assert.Equal(1, breaker.GetSummary().Failed);
        Assert.Equal(1, breaker.GetSummary().SlowCalls);
    }

    [Fact]
    public void Execute_SlowFailure_CountsOnceAsFailureAndOnceAsSlow()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = TestBreakers.CreateUnique(time, o => o.SlowCallThreshold = _threshold);

        Assert.Throws<TestFailureException>(() => breaker.Execute(() =>
        {
            time.Advance(_slow);
            throw new TestFailureException();
        }));

        CircuitSummary summary = breaker.GetSummary();
        Assert.Equal(1, summary.Failed);
        Assert.Equal(1, summary.SlowCalls);
        Assert.Equal(1, summary.TotalCalls);
        Assert.Equal(1, summary.ConsecutiveFailures);
    }

    [Fact]
    public void Execute_SlowSuccessAfterFailures_DoesNotResetConsecutiveCount()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = TestBreakers.CreateUnique(time, o =>
        {
            o.FailureThreshold = 3;
            o.SlowCallThreshold = _threshold;
        });
        TestBreakers.Fail(breaker, 2);

        breaker.Execute(() => time.Advance(_slow));

        Assert.Equal(CircuitState.Open, breaker.State);
    }

    [Fact]
    public void Execute_FastSuccessAfterFailures_ResetsTheConsecutiveCount()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = TestBreakers.CreateUnique(time, o =>
        {
            o.FailureThreshold = 3;
            o.SlowCallThreshold = _threshold;
        });
        TestBreakers.Fail(breaker, 2);

        breaker.Execute(() => time.Advance(_threshold - TimeSpan.FromMilliseconds(1))); // timed, and under the threshold

        Assert.Equal(0, breaker.GetSummary().ConsecutiveFailures);
        TestBreakers.Fail(breaker, 2);
        Assert.Equal(CircuitState.Closed, breaker.State); // two fresh failures: the earlier two no longer count
        TestBreakers.Fail(breaker);
        Assert.Equal(CircuitState.Open, breaker.State);
    }

    [Fact]
    public async Task ExecuteAsync_FastSuccessCompletingLaterAfterFailures_ResetsTheConsecutiveCount()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = TestBreakers.CreateUnique(time, o =>
        {
            o.FailureThreshold = 3;
            o.SlowCallThreshold = _threshold;
        });
        TestBreakers.Fail(breaker, 2);

        int answer = await breaker.ExecuteAsync(
            async _ =>
            {
                await Task.Yield(); // completes on another thread: the success is reported after the await
                time.Advance(TimeSpan.FromMilliseconds(900));
                return 7;
            },
            TestContext.Current.CancellationToken);

        Assert.Equal(7, answer);
        CircuitSummary summary = breaker.GetSummary();
        Assert.Equal(0, summary.ConsecutiveFailures);
        Assert.Equal(0, summary.SlowCalls);
        TestBreakers.Fail(breaker, 2);
        Assert.Equal(CircuitState.Closed, breaker.State);
    }

    [Fact]
    public void RecordSuccess_PermitHeldJustUnderTheThreshold_ResetsTheConsecutiveCount()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = TestBreakers.CreateUnique(time, o =>
        {
            o.FailureThreshold = 2;
            o.SlowCallThreshold = _threshold;
        });
        TestBreakers.Fail(breaker);
        CircuitPermit permit = breaker.AcquirePermit();

        time.Advance(_threshold); // exactly at the threshold is not slow
        permit.RecordSuccess();

        Assert.Equal(0, breaker.GetSummary().ConsecutiveFailures);
        TestBreakers.Fail(breaker);
        Assert.Equal(CircuitState.Closed, breaker.State); // one fresh failure of two: the earlier one was reset
    }

    [Fact]
    public void Execute_FastSuccessAfterASlowSuccess_ResetsTheCountTheSlowOneKept()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = TestBreakers.CreateUnique(time, o =>
        {
            o.FailureThreshold = 3;
            o.SlowCallThreshold = _threshold;
        });
        TestBreakers.Fail(breaker);
        breaker.Execute(() => time.Advance(_slow)); // slow: a failure, so the count is now 2
        Assert.Equal(2, breaker.GetSummary().ConsecutiveFailures);

        breaker.Execute(() => time.Advance(TimeSpan.FromMilliseconds(10)));

        Assert.Equal(0, breaker.GetSummary().ConsecutiveFailures);
        Assert.Equal(CircuitState.Closed, breaker.State);
    }

    [Fact]
    public void Execute_FastCallsWithThreshold_AreNotSlow()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = TestBreakers.CreateUnique(time, o =>
        {
            o.FailureThreshold = 1;
            o.SlowCallThreshold = _threshold;
        });

        for (int i = 0; i < 5; i++)
        {
            breaker.Execute(() => time.Advance(TimeSpan.FromMilliseconds(900)));
        }

        Assert.Equal(CircuitState.Closed, breaker.State);
        Assert.Equal(5, breaker.GetSummary().Successful);
        Assert.Equal(0, breaker.GetSummary().SlowCalls);
    }

    [Fact]
    public void Execute_SlowHalfOpenProbe_ReopensTheCircuit()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = TestBreakers.CreateUnique(time, o =>
        {
            o.FailureThreshold = 1;
            o.SuccessThreshold = 1;
            o.RecoveryTimeout = TimeSpan.FromSeconds(10);
            o.SlowCallThreshold = _threshold;
        });
        var log = new TransitionRecorder(breaker);
        TestBreakers.Fail(breaker);
        time.Advance(TimeSpan.FromSeconds(10));

        breaker.Execute(() => time.Advance(_slow));

        Assert.Equal(CircuitState.Open, breaker.State);
        Assert.Equal((CircuitState.HalfOpen, CircuitState.Open), log.Pairs[^1]);
    }

    [Fact]
    public void Execute_SlowCallsWithCountWindowAndNoSlowCallRatio_CountTowardFailureRatio()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = TestBreakers.CreateUnique(time, o =>
        {
            o.Rule = FailureRule.CountWindow;
            o.WindowSize = 4;
            o.MinimumThroughput = 4;
            o.FailureRatio = 0.5;
            o.SlowCallThreshold = _threshold;
        });
        TestBreakers.Succeed(breaker, 2);
        breaker.Execute(() => time.Advance(_slow));
        Assert.Equal(CircuitState.Closed, breaker.State);

        breaker.Execute(() => time.Advance(_slow)); // 2 slow of 4 = 0.5 failure ratio

        Assert.Equal(CircuitState.Open, breaker.State);
        Assert.Equal(2, breaker.GetSummary().Failed);
    }

    [Fact]
    public void Execute_SlowCallRatioReached_OpensWhileSlowCallsKeepTheirSuccess()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = TestBreakers.CreateUnique(time, o =>
        {
            o.Rule = FailureRule.CountWindow;
            o.WindowSize = 4;
            o.MinimumThroughput = 4;
            o.FailureRatio = 1;
            o.SlowCallThreshold = _threshold;
            o.SlowCallRatio = 0.5;
        });
        var log = new TransitionRecorder(breaker);
        TestBreakers.Succeed(breaker, 2);
        Assert.Equal(5, breaker.Execute(() =>
        {
            time.Advance(_slow);
            return 5;
        }));
        Assert.Equal(CircuitState.Closed, breaker.State); // 1 slow of 3: below the minimum throughput anyway

        breaker.Execute(() => time.Advance(_slow)); // 2 slow of 4 = 0.5

        Assert.Equal(CircuitState.Open, breaker.State);
        CircuitSummary summary = breaker.GetSummary();
        Assert.Equal(4, summary.Successful);
        Assert.Equal(0, summary.Failed);
        Assert.Equal(2, summary.SlowCalls);
        Assert.Equal(0, summary.ConsecutiveFailures);
        Assert.Null(Assert.Single(log.Transitions).Cause);
    }

    [Fact]
    public void Execute_SlowCallRatioNotReached_StaysClosedWithSuccesses()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = TestBreakers.CreateUnique(time, o =>
        {
            o.Rule = FailureRule.CountWindow;
            o.WindowSize = 4;
            o.MinimumThroughput = 4;
            o.FailureRatio = 1;
            o.FailureThreshold = 1; // ignored by a window rule
            o.SlowCallThreshold = _threshold;
            o.SlowCallRatio = 0.5;
        });

        TestBreakers.Succeed(breaker, 3);
        breaker.Execute(() => time.Advance(_slow)); // 1 of 4 = 0.25

        Assert.Equal(CircuitState.Closed, breaker.State);
        Assert.Equal(4, breaker.GetSummary().Successful);
        Assert.Equal(1, breaker.GetSummary().SlowCalls);
    }

    [Fact]
    public async Task ExecuteAsync_SlowCallRatioWithTimeWindow_Opens()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = TestBreakers.CreateUnique(time, o =>
        {
            o.Rule = FailureRule.TimeWindow;
            o.SamplingDuration = TimeSpan.FromSeconds(30);
            o.MinimumThroughput = 3;
            o.FailureRatio = 1;
            o.SlowCallThreshold = _threshold;
            o.SlowCallRatio = 1;
        });

        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(CircuitState.Closed, breaker.State);
            await breaker.ExecuteAsync(
                async ct =>
                {
                    await Task.Yield();
                    time.Advance(_slow);
                },
                TestContext.Current.CancellationToken);
        }

        Assert.Equal(CircuitState.Open, breaker.State);
        Assert.Equal(3, breaker.GetSummary().Successful);
        Assert.Equal(3, breaker.GetSummary().SlowCalls);
    }

    [Fact]
    public void Execute_SlowCallsOlderThanSamplingDuration_NoLongerCountTowardSlowRatio()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = TestBreakers.CreateUnique(time, o =>
        {
            o.Rule = FailureRule.TimeWindow;
            o.SamplingDuration = TimeSpan.FromSeconds(10);
            o.MinimumThroughput = 2;
            o.FailureRatio = 1;
            o.SlowCallThreshold = _threshold;
            o.SlowCallRatio = 1;
        });
        breaker.Execute(() => time.Advance(_slow));

        time.Advance(TimeSpan.FromSeconds(10));
        breaker.Execute(() => time.Advance(_slow));

        Assert.Equal(CircuitState.Closed, breaker.State);
        breaker.Execute(() => time.Advance(_slow));
        Assert.Equal(CircuitState.Open, breaker.State);
    }

    [Fact]
    public void Execute_SlowProbeWithSlowCallRatio_KeepsItsSuccessAndCloses()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = TestBreakers.CreateUnique(time, o =>
        {
            o.Rule = FailureRule.CountWindow;
            o.WindowSize = 2;
            o.MinimumThroughput = 1;
            o.FailureRatio = 1;
            o.SlowCallThreshold = _threshold;
            o.SlowCallRatio = 1;
            o.SuccessThreshold = 1;
            o.RecoveryTimeout = TimeSpan.FromSeconds(5);
        });
        TestBreakers.Fail(breaker);
        Assert.Equal(CircuitState.Open, breaker.State);
        time.Advance(TimeSpan.FromSeconds(5));

        breaker.Execute(() => time.Advance(_slow));

        Assert.Equal(CircuitState.Closed, breaker.State);
        Assert.Equal(1, breaker.GetSummary().SlowCalls);
    }

    [Fact]
    public void Execute_NoSlowCallThreshold_LongCallsAreNeverSlow()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = TestBreakers.CreateUnique(time, o => o.FailureThreshold = 1);

        breaker.Execute(() => time.Advance(TimeSpan.FromHours(1)));

        Assert.Equal(CircuitState.Closed, breaker.State);
        Assert.Equal(0, breaker.GetSummary().SlowCalls);
        Assert.Equal(1, breaker.GetSummary().Successful);
    }
}
