using Microsoft.Extensions.Time.Testing;
using Tripswitch.Tests.Health;
using Tripswitch.Testing;
using Xunit;

namespace Tripswitch.Tests.Controller;

public class ProbeTimeoutTests
{
    private static readonly TimeSpan _recovery = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan _probeTimeout = TimeSpan.FromSeconds(30);

    private static CircuitBreaker CreateHalfOpen(FakeTimeProvider time, Action<CircuitBreakerOptions>? more = null, [System.Runtime.CompilerServices.CallerMemberName] string test = "")
    {
        CircuitBreaker breaker = TestBreakers.CreateUnique(
            time,
            o =>
            {
                o.FailureThreshold = 1;
                o.RecoveryTimeout = _recovery;
                o.HalfOpenProbeTimeout = _probeTimeout;
                more?.Invoke(o);
            },
            test);
        TestBreakers.Fail(breaker);
        time.Advance(_recovery);
        Assert.Equal(CircuitState.HalfOpen, breaker.State);
        return breaker;
    }

    [Fact]
    public void AcquirePermit_HungProbe_FreedExactlyAtItsTimeout()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = CreateHalfOpen(time);
        var log = new TransitionRecorder(breaker);
        CircuitPermit hung = breaker.AcquirePermit();
        Assert.True(hung.IsProbe);

        time.Advance(_probeTimeout - TimeSpan.FromTicks(1));
        CircuitOpenException before = TestBreakers.Rejection(breaker);
        Assert.Equal(CircuitState.HalfOpen, before.State);
        Assert.Equal(TimeSpan.Zero, before.RetryAfter);

        time.Advance(TimeSpan.FromTicks(1));
        CircuitOpenException at = TestBreakers.Rejection(breaker); // the next caller finds the probe timed out

        Assert.Equal(CircuitState.Open, at.State);
        Assert.Equal(_recovery, at.RetryAfter); // a new open period
        Assert.Equal(CircuitState.Open, breaker.State);
        CircuitTransition reopened = Assert.Single(log.Transitions);
        Assert.Equal((CircuitState.HalfOpen, CircuitState.Open), (reopened.From, reopened.To));
        TimeoutException cause = Assert.IsType<TimeoutException>(reopened.Cause);
        Assert.Contains(breaker.Name, cause.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void State_HungProbeAtItsTimeout_ReadingStateReopens()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = CreateHalfOpen(time);
        _ = breaker.AcquirePermit();

        time.Advance(_probeTimeout - TimeSpan.FromTicks(1));
        Assert.Equal(CircuitState.HalfOpen, breaker.State);
        time.Advance(TimeSpan.FromTicks(1));

        Assert.Equal(CircuitState.Open, breaker.State);
        CircuitTransition last = breaker.GetSummary().Transitions[^1];
        Assert.Equal(CircuitState.Open, last.To);
        Assert.IsType<TimeoutException>(last.Cause);
    }

    [Fact]
    public void AcquirePermit_DefaultProbeTimeout_IsTwoMinutes()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = TestBreakers.CreateUnique(time, o => o.FailureThreshold = 1);
        TestBreakers.Fail(breaker);
        time.Advance(TimeSpan.FromSeconds(60));
        _ = breaker.AcquirePermit();

        time.Advance(TimeSpan.FromMinutes(2) - TimeSpan.FromTicks(1));
        Assert.Equal(CircuitState.HalfOpen, TestBreakers.Rejection(breaker).State);
        time.Advance(TimeSpan.FromTicks(1));

        Assert.Equal(CircuitState.Open, TestBreakers.Rejection(breaker).State);
    }

    [Fact]
    public void RecordSuccess_HungProbeAnswersAfterReopen_ChangesNothing()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = CreateHalfOpen(time, o => o.SuccessThreshold = 1);
        CircuitPermit hung = breaker.AcquirePermit();
        time.Advance(_probeTimeout);
        Assert.Equal(CircuitState.Open, breaker.State);

        hung.RecordSuccess();

        Assert.Equal(CircuitState.Open, breaker.State);
        Assert.Equal(_recovery, breaker.GetSummary().RetryAfter);
        Assert.Equal(1, breaker.GetSummary().Successful); // counted in the metrics only
    }

    [Fact]
    public void RecordSuccess_HungProbeAnswersInNextHalfOpenPeriod_DoesNotCountAsProbeSuccess()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = CreateHalfOpen(time, o => o.SuccessThreshold = 2);
        CircuitPermit hung = breaker.AcquirePermit();
        time.Advance(_probeTimeout);
        Assert.Equal(CircuitState.Open, breaker.State);
        time.Advance(_recovery);

        CircuitPermit fresh = breaker.AcquirePermit(); // the slot was freed: a new probe gets it
        Assert.True(fresh.IsProbe);
        hung.RecordSuccess(); // late: must not count toward the 2 successes
        fresh.RecordSuccess();

        Assert.Equal(CircuitState.HalfOpen, breaker.State);
        breaker.AcquirePermit().RecordSuccess();
        Assert.Equal(CircuitState.Closed, breaker.State);
    }

    [Fact]
    public void RecordFailure_HungProbeFailsAfterReopen_DoesNotReopenAgain()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = CreateHalfOpen(time, o => o.RecoveryBackoffMultiplier = 2);
        var log = new TransitionRecorder(breaker);
        CircuitPermit hung = breaker.AcquirePermit();
        time.Advance(_probeTimeout);
        Assert.Equal(CircuitState.Open, breaker.State);
        Assert.Equal(TimeSpan.FromSeconds(10), breaker.GetSummary().RetryAfter);

        hung.RecordFailure(new TestFailureException());

        Assert.Single(log.Transitions);
        Assert.Equal(TimeSpan.FromSeconds(10), breaker.GetSummary().RetryAfter); // no second backoff step
    }

    [Fact]
    public async Task ExecuteAsync_HungProbe_ReopensAtTimeoutAndLateResultChangesNothing()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = CreateHalfOpen(time, o => o.SuccessThreshold = 1);
        var upstream = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        ValueTask<int> probe = breaker.ExecuteAsync(async ct => await upstream.Task.WaitAsync(TestContext.Current.CancellationToken), TestContext.Current.CancellationToken);

        time.Advance(_probeTimeout - TimeSpan.FromTicks(1));
        CircuitOpenException before = await Assert.ThrowsAsync<CircuitOpenException>(
            async () => await breaker.ExecuteAsync(ct => ValueTask.FromResult(0), TestContext.Current.CancellationToken));
        Assert.Equal(CircuitState.HalfOpen, before.State);
        time.Advance(TimeSpan.FromTicks(1));
        CircuitOpenException at = await Assert.ThrowsAsync<CircuitOpenException>(
            async () => await breaker.ExecuteAsync(ct => ValueTask.FromResult(0), TestContext.Current.CancellationToken));
        Assert.Equal(CircuitState.Open, at.State);

        upstream.SetResult(99);

        Assert.Equal(99, await probe); // the caller still gets its late answer
        Assert.Equal(CircuitState.Open, breaker.State);
    }

    [Fact]
    public void AcquirePermit_OneOfTwoProbesHangs_ItsSlotIsFreedAtTimeout()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = CreateHalfOpen(time, o =>
        {
            o.HalfOpenMaxCalls = 2;
            o.SuccessThreshold = 3;
        });
        _ = breaker.AcquirePermit(); // hangs
        time.Advance(TimeSpan.FromSeconds(10));
        breaker.AcquirePermit().RecordSuccess();
        CircuitPermit second = breaker.AcquirePermit();
        Assert.True(second.IsProbe);
        Assert.Equal(CircuitState.HalfOpen, TestBreakers.Rejection(breaker).State); // both slots taken

        time.Advance(TimeSpan.FromSeconds(20)); // the first probe's 30 s are up

        Assert.Equal(CircuitState.Open, breaker.State);
        Assert.IsType<TimeoutException>(breaker.GetSummary().Transitions[^1].Cause);
    }

    [Fact]
    public void RecordSuccess_ProbeReportsAfterItsTimeoutBeforeAnyoneLooked_CountsAsFailed()
    {
        // A probe that has not reported within HalfOpenProbeTimeout counts as failed; its late outcome changes nothing,
        // whether or not another caller or a read of State happened to notice the timeout first.
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = CreateHalfOpen(time, o => o.SuccessThreshold = 1);
        CircuitPermit hung = breaker.AcquirePermit();

        time.Advance(_probeTimeout + TimeSpan.FromSeconds(1));
        hung.RecordSuccess();

        Assert.Equal(CircuitState.Open, breaker.State);
    }

    [Fact]
    public void AcquirePermit_ProbeReportsJustBeforeTimeout_CountsNormally()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = CreateHalfOpen(time, o => o.SuccessThreshold = 1);
        CircuitPermit probe = breaker.AcquirePermit();

        time.Advance(_probeTimeout - TimeSpan.FromTicks(1));
        probe.RecordSuccess();

        Assert.Equal(CircuitState.Closed, breaker.State);
        time.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(CircuitState.Closed, breaker.State);
    }
}
