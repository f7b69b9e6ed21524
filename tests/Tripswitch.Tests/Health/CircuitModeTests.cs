using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Tripswitch.Tests.Health;

public class CircuitModeTests
{
    [Fact]
    public void Execute_DisabledMode_EverythingPassesAndNothingIsRecorded()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = TestBreakers.CreateUnique(time, o =>
        {
            o.Mode = CircuitBreakerMode.Disabled;
            o.FailureThreshold = 1;
            o.SlowCallThreshold = TimeSpan.FromSeconds(1);
        });
        var log = new TransitionRecorder(breaker);

        for (int i = 0; i < 5; i++)
        {
            TestBreakers.ExecuteFailing(breaker);
        }

        Assert.Equal(9, breaker.Execute(() =>
        {
            time.Advance(TimeSpan.FromMinutes(1)); // slow, too
            return 9;
        }));

        Assert.Equal(CircuitState.Closed, breaker.State);
        CircuitSummary summary = breaker.GetSummary();
        Assert.Equal(CircuitState.Closed, summary.State);
        Assert.Equal(0, summary.TotalCalls);
        Assert.Equal(0, summary.Successful);
        Assert.Equal(0, summary.Failed);
        Assert.Equal(0, summary.Rejected);
        Assert.Equal(0, summary.SlowCalls);
        Assert.Equal(0, summary.ShadowRejected);
        Assert.Equal(0, summary.ConsecutiveFailures);
        Assert.Empty(summary.Transitions);
        Assert.Empty(log.Transitions);
    }

    [Fact]
    public async Task ExecuteAsync_DisabledMode_EverythingPassesAndNothingIsRecorded()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = TestBreakers.CreateUnique(time, o =>
        {
            o.Mode = CircuitBreakerMode.Disabled;
            o.Rule = FailureRule.CountWindow;
            o.WindowSize = 2;
            o.MinimumThroughput = 1;
            o.FailureRatio = 0.5;
        });

        for (int i = 0; i < 4; i++)
        {
            await TestBreakers.ExecuteFailingAsync(breaker);
        }

        int answer = await breaker.ExecuteAsync(
            async ct =>
            {
                await Task.Yield();
                return 3;
            },
            TestContext.Current.CancellationToken);

        Assert.Equal(3, answer);
        Assert.Equal(CircuitState.Closed, breaker.State);
        Assert.Equal(0, breaker.GetSummary().TotalCalls);
    }

    [Fact]
    public void AcquirePermit_DisabledModeWithTimeWindow_NeverRejectsAfterManyFailures()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = TestBreakers.CreateUnique(time, o =>
        {
            o.Mode = CircuitBreakerMode.Disabled;
            o.Rule = FailureRule.TimeWindow;
            o.MinimumThroughput = 1;
        });

        TestBreakers.Fail(breaker, 50);
        time.Advance(TimeSpan.FromMinutes(10));

        Assert.True(breaker.TryAcquirePermit(out CircuitPermit permit, out TimeSpan retryAfter));
        Assert.False(permit.IsProbe);
        Assert.Equal(TimeSpan.Zero, retryAfter);
        Assert.Equal(CircuitState.Closed, breaker.State);
        Assert.Equal(0, breaker.GetSummary().Failed);
    }

    [Fact]
    public void Execute_MetricsOnlyMode_TransitionsHappenButNothingIsRejected()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = TestBreakers.CreateUnique(time, o =>
        {
            o.Mode = CircuitBreakerMode.MetricsOnly;
            o.FailureThreshold = 2;
            o.RecoveryTimeout = TimeSpan.FromSeconds(10);
            o.SuccessThreshold = 2;
        });
        var log = new TransitionRecorder(breaker);
        TestBreakers.ExecuteFailing(breaker);
        TestBreakers.ExecuteFailing(breaker);
        Assert.Equal(CircuitState.Open, breaker.State);

        int ran = 0;
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(i, breaker.Execute(() => ran++));
        }

        TestBreakers.ExecuteFailing(breaker); // would have been rejected too; its failure is counted, decides nothing

        Assert.Equal(3, ran);
        CircuitSummary summary = breaker.GetSummary();
        Assert.Equal(CircuitState.Open, summary.State);
        Assert.Equal(0, summary.Rejected);
        Assert.Equal(4, summary.ShadowRejected);
        Assert.Equal(3, summary.Successful);
        Assert.Equal(3, summary.Failed);
        Assert.Equal([(CircuitState.Closed, CircuitState.Open)], log.Pairs);
        Assert.IsType<TestFailureException>(log.Transitions[0].Cause);

        // The open period still ends, probes still decide.
        time.Advance(TimeSpan.FromSeconds(10));
        breaker.Execute(() => { });
        Assert.Equal(CircuitState.HalfOpen, breaker.State);
        breaker.Execute(() => { });
        Assert.Equal(CircuitState.Closed, breaker.State);
        Assert.Equal(
            [(CircuitState.Closed, CircuitState.Open), (CircuitState.Open, CircuitState.HalfOpen), (CircuitState.HalfOpen, CircuitState.Closed)],
            log.Pairs);
        Assert.Equal(4, breaker.GetSummary().ShadowRejected); // the probes were real, not shadow-rejected
    }

    [Fact]
    public async Task ExecuteAsync_MetricsOnlyModeWhileOpen_RunsTheCallAndCountsShadowRejected()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = TestBreakers.CreateUnique(time, o =>
        {
            o.Mode = CircuitBreakerMode.MetricsOnly;
            o.FailureThreshold = 1;
        });
        await TestBreakers.ExecuteFailingAsync(breaker);
        Assert.Equal(CircuitState.Open, breaker.State);

        int answer = await breaker.ExecuteAsync(
            async ct =>
            {
                await Task.Yield();
                return 11;
            },
            TestContext.Current.CancellationToken);
        await TestBreakers.ExecuteFailingAsync(breaker);

        Assert.Equal(11, answer);
        CircuitSummary summary = breaker.GetSummary();
        Assert.Equal(CircuitState.Open, summary.State);
        Assert.Equal(2, summary.ShadowRejected);
        Assert.Equal(0, summary.Rejected);
        Assert.Equal(1, summary.Successful);
        Assert.Equal(2, summary.Failed);
    }

    [Fact]
    public void AcquirePermit_MetricsOnlyHalfOpenWithProbeInFlight_OtherCallerRunsAsShadow()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = TestBreakers.CreateUnique(time, o =>
        {
            o.Mode = CircuitBreakerMode.MetricsOnly;
            o.FailureThreshold = 1;
            o.RecoveryTimeout = TimeSpan.FromSeconds(5);
        });
        TestBreakers.Fail(breaker);
        time.Advance(TimeSpan.FromSeconds(5));

        CircuitPermit probe = breaker.AcquirePermit();
        CircuitPermit shadow = breaker.AcquirePermit();

        Assert.True(probe.IsProbe);
        Assert.False(shadow.IsProbe);
        Assert.Equal(CircuitState.HalfOpen, breaker.State);
        Assert.Equal(1, breaker.GetSummary().ShadowRejected);

        shadow.RecordFailure(new TestFailureException()); // a shadow call's failure decides nothing
        Assert.Equal(CircuitState.HalfOpen, breaker.State);

        probe.RecordFailure(new TestFailureException()); // the real probe does
        Assert.Equal(CircuitState.Open, breaker.State);
    }

    [Fact]
    public void Execute_MetricsOnlyIsolated_CallsRunAndCountAsShadowRejected()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = TestBreakers.CreateUnique(time, o => o.Mode = CircuitBreakerMode.MetricsOnly);
        breaker.Isolate();

        Assert.Equal(5, breaker.Execute(() => 5));

        Assert.Equal(CircuitState.Isolated, breaker.State);
        Assert.Equal(1, breaker.GetSummary().ShadowRejected);
        Assert.Equal(0, breaker.GetSummary().Rejected);
    }

    [Fact]
    public void Execute_MetricsOnlyWithCountWindow_RulesStillRun()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = TestBreakers.CreateUnique(time, o =>
        {
            o.Mode = CircuitBreakerMode.MetricsOnly;
            o.Rule = FailureRule.CountWindow;
            o.WindowSize = 4;
            o.MinimumThroughput = 4;
            o.FailureRatio = 0.5;
        });

        TestBreakers.Succeed(breaker, 2);
        TestBreakers.Fail(breaker);
        Assert.Equal(CircuitState.Closed, breaker.State);
        TestBreakers.Fail(breaker);

        Assert.Equal(CircuitState.Open, breaker.State);
        Assert.Equal(7, breaker.Execute(() => 7));
    }

    [Fact]
    public void Execute_EnabledModeByDefault_RejectsWithoutRunningTheCall()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = TestBreakers.CreateUnique(time, o => o.FailureThreshold = 1);
        TestBreakers.Fail(breaker);
        bool ran = false;

        Assert.Throws<CircuitOpenException>(() => breaker.Execute(() => ran = true));

        Assert.False(ran);
        Assert.Equal(1, breaker.GetSummary().Rejected);
        Assert.Equal(0, breaker.GetSummary().ShadowRejected);
    }

    [Fact]
    public void Isolate_DisabledMode_StateStaysClosedAndNothingIsRecorded()
    {
        // A disabled circuit lets everything pass; it must not report a state (Isolated) that its behaviour contradicts.
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = TestBreakers.CreateUnique(time, o => o.Mode = CircuitBreakerMode.Disabled);
        var log = new TransitionRecorder(breaker);

        breaker.Isolate();

        Assert.Equal(4, breaker.Execute(() => 4)); // still passes
        Assert.Equal(CircuitState.Closed, breaker.State);
        Assert.Empty(breaker.GetSummary().Transitions);
        Assert.Empty(log.Transitions);
    }
}
