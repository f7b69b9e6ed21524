using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Tripswitch.Tests;

public class CircuitPermitTests
{
    private static readonly TimeSpan _recovery = TimeSpan.FromSeconds(30);

    private readonly FakeTimeProvider _time = new();

    private CircuitBreaker Create(int failureThreshold = 2, int successThreshold = 2, int halfOpenMaxCalls = 1, Func<Exception, bool>? shouldHandle = null)
        => TestBreakers.Create(_time, o =>
        {
            o.Name = "permit";
            o.FailureThreshold = failureThreshold;
            o.SuccessThreshold = successThreshold;
            o.HalfOpenMaxCalls = halfOpenMaxCalls;
            o.RecoveryTimeout = _recovery;
            o.ShouldHandle = shouldHandle;
        });

    [Fact]
    public void AcquirePermit_Closed_GrantsANonProbePermitCountedOnlyWhenReported()
    {
        var breaker = Create();

        CircuitPermit permit = breaker.AcquirePermit();

        Assert.False(permit.IsProbe);
        Assert.Equal(0, breaker.GetSummary().TotalCalls); // in flight
        permit.RecordSuccess();
        Assert.Equal(1, breaker.GetSummary().Successful);
        Assert.Equal(1, breaker.GetSummary().TotalCalls);
    }

    [Fact]
    public void AcquirePermit_Open_ThrowsCircuitOpenExceptionAndCountsARejection()
    {
        var breaker = Create();
        TestBreakers.Trip(breaker, 2);
        _time.Advance(TimeSpan.FromSeconds(5));

        var ex = Assert.Throws<CircuitOpenException>(() => breaker.AcquirePermit());

        Assert.Equal("permit", ex.CircuitName);
        Assert.Equal(CircuitState.Open, ex.State);
        Assert.Equal(TimeSpan.FromSeconds(25), ex.RetryAfter);
        Assert.Equal(1, breaker.GetSummary().Rejected);
    }

    [Fact]
    public void AcquirePermit_HalfOpen_GrantsProbesUpToTheLimitThenThrows()
    {
        var breaker = Create(failureThreshold: 1, halfOpenMaxCalls: 2);
        TestBreakers.HalfOpen(breaker, _time, 1, _recovery);

        CircuitPermit first = breaker.AcquirePermit();
        CircuitPermit second = breaker.AcquirePermit();
        var ex = Assert.Throws<CircuitOpenException>(() => breaker.AcquirePermit());

        Assert.True(first.IsProbe);
        Assert.True(second.IsProbe);
        Assert.Equal(CircuitState.HalfOpen, ex.State);
        Assert.Equal(TimeSpan.Zero, ex.RetryAfter);
    }

    [Fact]
    public void AcquirePermit_OpenPeriodOver_FirstCallerGetsAProbe()
    {
        var breaker = Create(failureThreshold: 1);
        TestBreakers.Trip(breaker, 1);
        _time.Advance(_recovery);

        CircuitPermit probe = breaker.AcquirePermit(); // no State read before: the acquire itself half-opens

        Assert.True(probe.IsProbe);
        Assert.Equal(CircuitState.HalfOpen, breaker.State);
    }

    [Fact]
    public void TryAcquirePermit_Closed_ReturnsTrueWithZeroRetryAfter()
    {
        var breaker = Create();

        bool granted = breaker.TryAcquirePermit(out CircuitPermit permit, out TimeSpan retryAfter);

        Assert.True(granted);
        Assert.False(permit.IsProbe);
        Assert.Equal(TimeSpan.Zero, retryAfter);
        permit.RecordSuccess();
        Assert.Equal(1, breaker.GetSummary().Successful);
    }

    [Fact]
    public void TryAcquirePermit_Open_ReturnsFalseWithRemainingTimeAndCountsARejection()
    {
        var breaker = Create();
        TestBreakers.Trip(breaker, 2);
        _time.Advance(TimeSpan.FromSeconds(12));

        bool granted = breaker.TryAcquirePermit(out CircuitPermit permit, out TimeSpan retryAfter);

        Assert.False(granted);
        Assert.Equal(TimeSpan.FromSeconds(18), retryAfter);
        Assert.Equal(1, breaker.GetSummary().Rejected);
        Assert.Throws<InvalidOperationException>(() => permit.RecordSuccess()); // a refused permit is the default one
    }

    [Fact]
    public void TryAcquirePermit_HalfOpenFull_ReturnsFalseWithZeroRetryAfter()
    {
        var breaker = Create(failureThreshold: 1);
        TestBreakers.HalfOpen(breaker, _time, 1, _recovery);
        CircuitPermit probe = breaker.AcquirePermit();

        bool granted = breaker.TryAcquirePermit(out _, out TimeSpan retryAfter);

        Assert.False(granted);
        Assert.Equal(TimeSpan.Zero, retryAfter);
        probe.RecordSuccess();
    }

    [Fact]
    public void TryAcquirePermit_Isolated_ReturnsFalseWithMaxRetryAfter()
    {
        var breaker = Create();
        breaker.Isolate();

        bool granted = breaker.TryAcquirePermit(out _, out TimeSpan retryAfter);

        Assert.False(granted);
        Assert.Equal(TimeSpan.MaxValue, retryAfter);
        Assert.Equal(1, breaker.GetSummary().Rejected);
    }

    [Fact]
    public void RecordFailure_ReachesThreshold_OpensWithTheExceptionAsCause()
    {
        var breaker = Create(failureThreshold: 2);
        var first = new TestFailureException("first");
        var second = new TestFailureException("second");

        breaker.AcquirePermit().RecordFailure(first);
        breaker.AcquirePermit().RecordFailure(second);

        CircuitTransition trip = Assert.Single(breaker.GetSummary().Transitions);
        Assert.Equal((CircuitState.Closed, CircuitState.Open), (trip.From, trip.To));
        Assert.Same(second, trip.Cause); // the failure that tripped it
        Assert.Equal(2, breaker.GetSummary().Failed);
    }

    [Fact]
    public void RecordFailure_WithoutException_OpensWithNullCause()
    {
        var breaker = Create(failureThreshold: 1);

        breaker.AcquirePermit().RecordFailure();

        Assert.Equal(CircuitState.Open, breaker.State);
        Assert.Null(Assert.Single(breaker.GetSummary().Transitions).Cause);
    }

    [Fact]
    public void RecordIgnored_Closed_CountsIgnoredWithoutTouchingTheConsecutiveCount()
    {
        var breaker = Create(failureThreshold: 2);
        TestBreakers.Fail(breaker);

        breaker.AcquirePermit().RecordIgnored();

        CircuitSummary summary = breaker.GetSummary();
        Assert.Equal(1, summary.Ignored);
        Assert.Equal(1, summary.ConsecutiveFailures);
        TestBreakers.Fail(breaker);
        Assert.Equal(CircuitState.Open, breaker.State);
    }

    [Fact]
    public void RecordIgnored_Probe_FreesTheSlotWithoutCountingTowardClosing()
    {
        var breaker = Create(failureThreshold: 1, successThreshold: 1);
        TestBreakers.HalfOpen(breaker, _time, 1, _recovery);

        breaker.AcquirePermit().RecordIgnored();

        Assert.Equal(CircuitState.HalfOpen, breaker.State);
        CircuitPermit next = breaker.AcquirePermit();
        Assert.True(next.IsProbe);
        next.RecordSuccess();
        Assert.Equal(CircuitState.Closed, breaker.State);
    }

    [Fact]
    public void RecordException_HandledException_ReturnsTrueAndCountsAFailure()
    {
        var breaker = Create(failureThreshold: 1);
        var failure = new TestFailureException();

        bool counted = breaker.AcquirePermit().RecordException(failure, TestContext.Current.CancellationToken);

        Assert.True(counted);
        Assert.Equal(1, breaker.GetSummary().Failed);
        Assert.Same(failure, breaker.GetSummary().Transitions[^1].Cause);
    }

    [Fact]
    public void RecordException_ShouldHandleFalse_ReturnsFalseAndCountsIgnored()
    {
        var breaker = Create(failureThreshold: 1, shouldHandle: TestBreakers.IgnoreNotHandled);

        bool counted = breaker.AcquirePermit().RecordException(new NotHandledException(), TestContext.Current.CancellationToken);

        Assert.False(counted);
        Assert.Equal(1, breaker.GetSummary().Ignored);
        Assert.Equal(CircuitState.Closed, breaker.State);
    }

    [Fact]
    public void RecordException_OperationCanceledWithCallersTokenCancelled_ReturnsFalseAndCountsIgnored()
    {
        int predicateCalls = 0;
        var breaker = Create(failureThreshold: 1, shouldHandle: _ => { predicateCalls++; return true; });
        using var cts = new CancellationTokenSource();
        cts.Cancel();

        bool counted = breaker.AcquirePermit().RecordException(new OperationCanceledException(cts.Token), cts.Token);

        Assert.False(counted);
        Assert.Equal(0, predicateCalls); // caller cancellation is never a failure, whatever ShouldHandle says
        Assert.Equal(1, breaker.GetSummary().Ignored);
        Assert.Equal(CircuitState.Closed, breaker.State);
    }

    [Fact]
    public void RecordException_OperationCanceledWithoutCallerCancellation_FollowsShouldHandle()
    {
        var breaker = Create(failureThreshold: 5);
        using var notCancelled = new CancellationTokenSource();

        bool byDefault = breaker.AcquirePermit().RecordException(new OperationCanceledException(), notCancelled.Token);
        bool noToken = breaker.AcquirePermit().RecordException(new TaskCanceledException(), CancellationToken.None);

        Assert.True(byDefault);
        Assert.True(noToken);
        Assert.Equal(2, breaker.GetSummary().Failed);
    }

    [Fact]
    public void RecordException_CallerTokenCancelledButNotACancellation_FollowsShouldHandle()
    {
        var breaker = Create(failureThreshold: 5);
        using var cts = new CancellationTokenSource();
        cts.Cancel();

        bool counted = breaker.AcquirePermit().RecordException(new TestFailureException(), cts.Token);

        Assert.True(counted);
        Assert.Equal(1, breaker.GetSummary().Failed);
    }

    [Fact]
    public void RecordException_NullException_ThrowsArgumentNullException()
    {
        var breaker = Create();
        CircuitPermit permit = breaker.AcquirePermit();

        Assert.Throws<ArgumentNullException>(() => permit.RecordException(null!, TestContext.Current.CancellationToken));

        permit.RecordSuccess(); // the permit is still usable and counted once
        Assert.Equal(1, breaker.GetSummary().TotalCalls);
    }

    [Fact]
    public void DefaultPermit_EveryReport_ThrowsInvalidOperationException()
    {
        CircuitPermit permit = default;

        Assert.False(permit.IsProbe);
        Assert.Throws<InvalidOperationException>(() => permit.RecordSuccess());
        Assert.Throws<InvalidOperationException>(() => permit.RecordFailure());
        Assert.Throws<InvalidOperationException>(() => permit.RecordFailure(new TestFailureException()));
        Assert.Throws<InvalidOperationException>(() => permit.RecordIgnored());
        Assert.Throws<InvalidOperationException>(() => permit.RecordException(new TestFailureException(), TestContext.Current.CancellationToken));
    }

    [Fact]
    public void RecordSuccess_ProbeReportedTwice_SecondReportDoesNotCountTowardClosing()
    {
        var breaker = Create(failureThreshold: 1, successThreshold: 2);
        TestBreakers.HalfOpen(breaker, _time, 1, _recovery);
        CircuitPermit probe = breaker.AcquirePermit();

        probe.RecordSuccess();
        probe.RecordSuccess();

        Assert.Equal(CircuitState.HalfOpen, breaker.State); // one success of two, not two
    }

    [Fact]
    public void RecordFailure_ProbeAlreadyReportedAsSuccess_DoesNotReopen()
    {
        var breaker = Create(failureThreshold: 1, successThreshold: 2);
        TestBreakers.HalfOpen(breaker, _time, 1, _recovery);
        CircuitPermit probe = breaker.AcquirePermit();

        probe.RecordSuccess();
        probe.RecordFailure(new TestFailureException());

        Assert.Equal(CircuitState.HalfOpen, breaker.State);
    }

    [Fact]
    public void RecordSuccess_ProbeReportedTwice_SecondReportLeavesTheSummaryUnchanged()
    {
        var breaker = Create(failureThreshold: 1, successThreshold: 2);
        TestBreakers.HalfOpen(breaker, _time, 1, _recovery);
        CircuitPermit probe = breaker.AcquirePermit();
        probe.RecordSuccess();
        CircuitSummary before = breaker.GetSummary();

        probe.RecordSuccess();
        probe.RecordFailure();
        probe.RecordIgnored();

        CircuitSummary after = breaker.GetSummary();
        Assert.Equal(
            (before.State, before.Successful, before.Failed, before.Ignored, before.TotalCalls, before.ConsecutiveFailures),
            (after.State, after.Successful, after.Failed, after.Ignored, after.TotalCalls, after.ConsecutiveFailures));
    }

    [Fact]
    public void RecordFailure_ProbeFailsTwice_SecondReportNeitherExtendsTheOpenPeriodNorAddsAFailure()
    {
        var breaker = Create(failureThreshold: 1);
        TestBreakers.HalfOpen(breaker, _time, 1, _recovery);
        CircuitPermit probe = breaker.AcquirePermit();
        probe.RecordFailure();
        _time.Advance(TimeSpan.FromSeconds(10));

        probe.RecordFailure();

        Assert.Equal(CircuitState.Open, breaker.State);
        Assert.Equal(TimeSpan.FromSeconds(20), breaker.GetSummary().RetryAfter);
        Assert.Equal(3, breaker.GetSummary().Transitions.Count); // C→O, O→H, H→O: no second H→O
        Assert.Equal(2, breaker.GetSummary().ConsecutiveFailures);
    }
}
