using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Tripswitch.Tests;

public class CircuitBreakerTests
{
    private static readonly TimeSpan _recovery = TimeSpan.FromSeconds(30);

    private readonly FakeTimeProvider _time = new();

    private CircuitBreaker Create(int failureThreshold = 3, int successThreshold = 2, int halfOpenMaxCalls = 1, Func<Exception, bool>? shouldHandle = null)
        => TestBreakers.Create(_time, o =>
        {
            o.Name = "svc";
            o.FailureThreshold = failureThreshold;
            o.SuccessThreshold = successThreshold;
            o.HalfOpenMaxCalls = halfOpenMaxCalls;
            o.RecoveryTimeout = _recovery;
            o.ShouldHandle = shouldHandle;
        });

    [Fact]
    public void Execute_Closed_ReturnsResultAndCountsSuccess()
    {
        var breaker = Create();

        int result = breaker.Execute(() => 42);

        Assert.Equal(42, result);
        CircuitSummary summary = breaker.GetSummary();
        Assert.Equal(1, summary.Successful);
        Assert.Equal(1, summary.TotalCalls);
        Assert.Equal(CircuitState.Closed, summary.State);
    }

    [Fact]
    public void ExecuteAction_Closed_RunsActionOnceAndCountsSuccess()
    {
        var breaker = Create();
        int runs = 0;

        breaker.Execute(() => { runs++; });

        Assert.Equal(1, runs);
        Assert.Equal(1, breaker.GetSummary().Successful);
    }

    [Fact]
    public void Execute_Failure_RethrowsTheSameExceptionAndCountsIt()
    {
        var breaker = Create();
        var failure = new TestFailureException();

        var thrown = Assert.Throws<TestFailureException>(() => breaker.Execute<int>(() => throw failure));

        Assert.Same(failure, thrown);
        CircuitSummary summary = breaker.GetSummary();
        Assert.Equal(1, summary.Failed);
        Assert.Equal(1, summary.ConsecutiveFailures);
        Assert.Equal(0, summary.Successful);
    }

    [Fact]
    public void ExecuteAction_Failure_RethrowsTheSameExceptionAndCountsIt()
    {
        var breaker = Create();
        var failure = new TestFailureException();

        var thrown = Assert.Throws<TestFailureException>(() => breaker.Execute(() => throw failure));

        Assert.Same(failure, thrown);
        Assert.Equal(1, breaker.GetSummary().Failed);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(5)]
    public void Execute_ThresholdConsecutiveFailures_OpensExactlyAtThreshold(int threshold)
    {
        var breaker = Create(failureThreshold: threshold);

        for (int i = 1; i < threshold; i++)
        {
            Assert.Throws<TestFailureException>(() => breaker.Execute(() => throw new TestFailureException()));
            Assert.Equal(CircuitState.Closed, breaker.State);
            Assert.Equal(i, breaker.GetSummary().ConsecutiveFailures);
        }

        Assert.Throws<TestFailureException>(() => breaker.Execute(() => throw new TestFailureException()));
        Assert.Equal(CircuitState.Open, breaker.State);
        Assert.Equal(threshold, breaker.GetSummary().ConsecutiveFailures);
    }

    [Fact]
    public void Execute_SuccessBetweenFailures_ResetsTheConsecutiveCount()
    {
        var breaker = Create(failureThreshold: 3);

        Assert.Throws<TestFailureException>(() => breaker.Execute(() => throw new TestFailureException()));
        Assert.Throws<TestFailureException>(() => breaker.Execute(() => throw new TestFailureException()));
        Assert.Equal(7, breaker.Execute(() => 7));
        Assert.Equal(0, breaker.GetSummary().ConsecutiveFailures);
        Assert.Throws<TestFailureException>(() => breaker.Execute(() => throw new TestFailureException()));
        Assert.Throws<TestFailureException>(() => breaker.Execute(() => throw new TestFailureException()));

        Assert.Equal(CircuitState.Closed, breaker.State);
        Assert.Equal(2, breaker.GetSummary().ConsecutiveFailures);

        Assert.Throws<TestFailureException>(() => breaker.Execute(() => throw new TestFailureException()));
        Assert.Equal(CircuitState.Open, breaker.State);
    }

    [Fact]
    public void Execute_Open_RejectsWithoutInvokingTheCallback()
    {
        var breaker = Create(failureThreshold: 2);
        TestBreakers.Trip(breaker, 2);
        int invoked = 0;

        var ex = Assert.Throws<CircuitOpenException>(() => breaker.Execute(() => ++invoked));
        Assert.Throws<CircuitOpenException>(() => breaker.Execute(() => { invoked++; }));

        Assert.Equal(0, invoked);
        Assert.Equal("svc", ex.CircuitName);
        Assert.Equal(CircuitState.Open, ex.State);
        Assert.Equal(_recovery, ex.RetryAfter);
        Assert.Equal("Circuit 'svc' is open. Retry after 30.0s", ex.Message);
        Assert.Equal(2, breaker.GetSummary().Rejected);
    }

    [Fact]
    public void Execute_Open_RetryAfterCountsDownWithTheTimeProvider()
    {
        var breaker = Create(failureThreshold: 1);
        TestBreakers.Trip(breaker, 1);

        _time.Advance(TimeSpan.FromMilliseconds(17_700));
        var ex = Assert.Throws<CircuitOpenException>(() => breaker.Execute(() => 1));

        Assert.Equal(TimeSpan.FromMilliseconds(12_300), ex.RetryAfter);
        Assert.Equal("Circuit 'svc' is open. Retry after 12.3s", ex.Message);
    }

    [Fact]
    public void Execute_OneTickBeforeRecoveryTimeout_StillRejects()
    {
        var breaker = Create(failureThreshold: 1);
        TestBreakers.Trip(breaker, 1);
        int invoked = 0;

        _time.Advance(_recovery - TimeSpan.FromTicks(1));
        var ex = Assert.Throws<CircuitOpenException>(() => breaker.Execute(() => ++invoked));

        Assert.Equal(0, invoked);
        Assert.Equal(TimeSpan.FromTicks(1), ex.RetryAfter);
        Assert.Equal(CircuitState.Open, breaker.State);
    }

    [Fact]
    public void Execute_AfterRecoveryTimeout_NextCallerRunsAsProbeAndCircuitIsHalfOpen()
    {
        var breaker = Create(failureThreshold: 1, successThreshold: 2);
        var recorder = new TransitionRecorder(breaker);
        TestBreakers.Trip(breaker, 1);
        _time.Advance(_recovery);
        CircuitState stateDuringCall = CircuitState.Closed;

        int result = breaker.Execute(() =>
        {
            stateDuringCall = breaker.State;
            return 5;
        });

        Assert.Equal(5, result);
        Assert.Equal(CircuitState.HalfOpen, stateDuringCall);
        Assert.Equal(CircuitState.HalfOpen, breaker.State); // one success of two
        Assert.Equal([(CircuitState.Closed, CircuitState.Open), (CircuitState.Open, CircuitState.HalfOpen)], recorder.Pairs);
    }

    [Fact]
    public void State_ReadAfterRecoveryTimeout_MovesToHalfOpenAndRaisesTheTransition()
    {
        var breaker = Create(failureThreshold: 1);
        var recorder = new TransitionRecorder(breaker);
        TestBreakers.Trip(breaker, 1);
        _time.Advance(_recovery);

        Assert.Equal(CircuitState.HalfOpen, breaker.State);

        Assert.Equal((CircuitState.Open, CircuitState.HalfOpen), recorder.Pairs[^1]);
        Assert.Equal(CircuitState.HalfOpen, breaker.GetSummary().State);
        Assert.Equal(_time.GetUtcNow(), recorder.Transitions[^1].At);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    public void Execute_HalfOpenSuccessThresholdProbes_CloseTheCircuit(int successThreshold)
    {
        var breaker = Create(failureThreshold: 1, successThreshold: successThreshold);
        TestBreakers.HalfOpen(breaker, _time, 1, _recovery);

        for (int i = 1; i < successThreshold; i++)
        {
            Assert.Equal(i, breaker.Execute(() => i));
            Assert.Equal(CircuitState.HalfOpen, breaker.State);
        }

        breaker.Execute(() => 0);
        Assert.Equal(CircuitState.Closed, breaker.State);
        Assert.Equal(0, breaker.GetSummary().ConsecutiveFailures);
    }

    [Fact]
    public void Execute_ClosedAfterProbes_NeedsAFullFailureThresholdToOpenAgain()
    {
        var breaker = Create(failureThreshold: 3, successThreshold: 1);
        TestBreakers.HalfOpen(breaker, _time, 3, _recovery);
        breaker.Execute(() => 1);
        Assert.Equal(CircuitState.Closed, breaker.State);

        TestBreakers.Fail(breaker, 2);
        Assert.Equal(CircuitState.Closed, breaker.State);
        TestBreakers.Fail(breaker);
        Assert.Equal(CircuitState.Open, breaker.State);
    }

    [Fact]
    public void Execute_HalfOpenProbeFails_ReopensForAFullNewOpenPeriod()
    {
        var breaker = Create(failureThreshold: 1);
        TestBreakers.Trip(breaker, 1);
        _time.Advance(_recovery * 3); // long past the first open period
        var failure = new TestFailureException();

        Assert.Same(failure, Assert.Throws<TestFailureException>(() => breaker.Execute(() => throw failure)));

        Assert.Equal(CircuitState.Open, breaker.State);
        var ex = Assert.Throws<CircuitOpenException>(() => breaker.Execute(() => 1));
        Assert.Equal(_recovery, ex.RetryAfter);
        _time.Advance(_recovery - TimeSpan.FromTicks(1));
        Assert.Equal(CircuitState.Open, breaker.State);
        _time.Advance(TimeSpan.FromTicks(1));
        Assert.Equal(CircuitState.HalfOpen, breaker.State);
    }

    [Fact]
    public void Execute_HalfOpenProbeFailsAfterSomeSuccesses_Reopens()
    {
        var breaker = Create(failureThreshold: 1, successThreshold: 3);
        TestBreakers.HalfOpen(breaker, _time, 1, _recovery);
        breaker.Execute(() => 1);
        breaker.Execute(() => 2);

        Assert.Throws<TestFailureException>(() => breaker.Execute(() => throw new TestFailureException()));

        Assert.Equal(CircuitState.Open, breaker.State);
    }

    [Fact]
    public void Execute_HalfOpenEverySlotTaken_RejectsWithHalfOpenStateAndZeroRetryAfter()
    {
        var breaker = Create(failureThreshold: 1, halfOpenMaxCalls: 1);
        TestBreakers.HalfOpen(breaker, _time, 1, _recovery);
        CircuitPermit probe = breaker.AcquirePermit(); // a probe in flight
        int invoked = 0;

        var ex = Assert.Throws<CircuitOpenException>(() => breaker.Execute(() => ++invoked));

        Assert.Equal(0, invoked);
        Assert.Equal(CircuitState.HalfOpen, ex.State);
        Assert.Equal(TimeSpan.Zero, ex.RetryAfter);
        Assert.Equal("svc", ex.CircuitName);
        Assert.Equal(1, breaker.GetSummary().Rejected);
        probe.RecordSuccess();
    }

    [Fact]
    public void Execute_HalfOpenWithFreedSlot_AdmitsTheNextProbe()
    {
        var breaker = Create(failureThreshold: 1, successThreshold: 3, halfOpenMaxCalls: 2);
        TestBreakers.HalfOpen(breaker, _time, 1, _recovery);
        CircuitPermit first = breaker.AcquirePermit();
        CircuitPermit second = breaker.AcquirePermit();
        Assert.Throws<CircuitOpenException>(() => breaker.Execute(() => 1));

        first.RecordSuccess();

        Assert.True(breaker.TryAcquirePermit(out CircuitPermit third, out _)); // the freed slot lets one more probe through
        Assert.True(third.IsProbe);
        Assert.Throws<CircuitOpenException>(() => breaker.Execute(() => 1)); // second and third hold both slots
        second.RecordSuccess();
        Assert.Equal(CircuitState.HalfOpen, breaker.State);
        third.RecordSuccess(); // third success of three
        Assert.Equal(CircuitState.Closed, breaker.State);
    }

    [Fact]
    public void Isolate_EveryStateAndAnyTime_RejectsWithMaxRetryAfterUntilReset()
    {
        var breaker = Create();
        var recorder = new TransitionRecorder(breaker);
        int invoked = 0;

        breaker.Isolate();
        _time.Advance(TimeSpan.FromDays(10));

        Assert.Equal(CircuitState.Isolated, breaker.State);
        var ex = Assert.Throws<CircuitOpenException>(() => breaker.Execute(() => ++invoked));
        Assert.Equal(CircuitState.Isolated, ex.State);
        Assert.Equal(TimeSpan.MaxValue, ex.RetryAfter);
        Assert.False(breaker.TryAcquirePermit(out _, out TimeSpan retryAfter));
        Assert.Equal(TimeSpan.MaxValue, retryAfter);
        Assert.Equal(0, invoked);

        breaker.Reset();

        Assert.Equal(CircuitState.Closed, breaker.State);
        Assert.Equal(1, breaker.Execute(() => ++invoked));
        Assert.Equal([(CircuitState.Closed, CircuitState.Isolated), (CircuitState.Isolated, CircuitState.Closed)], recorder.Pairs);
    }

    [Fact]
    public void Isolate_FromOpen_StaysIsolatedAfterTheOpenPeriod()
    {
        var breaker = Create(failureThreshold: 1);
        TestBreakers.Trip(breaker, 1);

        breaker.Isolate();
        _time.Advance(_recovery * 2);

        Assert.Equal(CircuitState.Isolated, breaker.State);
        Assert.Throws<CircuitOpenException>(() => breaker.Execute(() => 1));
    }

    [Fact]
    public void Isolate_FromHalfOpenWithProbeInFlight_ProbeOutcomeDoesNotEndIsolation()
    {
        var breaker = Create(failureThreshold: 1, successThreshold: 1);
        TestBreakers.HalfOpen(breaker, _time, 1, _recovery);
        CircuitPermit probe = breaker.AcquirePermit();

        breaker.Isolate();
        probe.RecordSuccess(); // would close a half-open circuit with SuccessThreshold 1

        Assert.Equal(CircuitState.Isolated, breaker.State);
    }

    [Fact]
    public void Isolate_Twice_RecordsOneTransition()
    {
        var breaker = Create();
        var recorder = new TransitionRecorder(breaker);

        breaker.Isolate();
        breaker.Isolate();

        Assert.Single(recorder.Transitions);
        Assert.Single(breaker.GetSummary().Transitions);
    }

    [Fact]
    public void Reset_FromOpen_ClosesAndClearsTheConsecutiveCount()
    {
        var breaker = Create(failureThreshold: 2);
        TestBreakers.Trip(breaker, 2);

        breaker.Reset();

        Assert.Equal(CircuitState.Closed, breaker.State);
        Assert.Equal(0, breaker.GetSummary().ConsecutiveFailures);
        Assert.Equal(TimeSpan.Zero, breaker.GetSummary().RetryAfter);
        TestBreakers.Fail(breaker);
        Assert.Equal(CircuitState.Closed, breaker.State); // needs two fresh failures again
    }

    [Fact]
    public void Reset_FromHalfOpen_Closes()
    {
        var breaker = Create(failureThreshold: 1);
        TestBreakers.HalfOpen(breaker, _time, 1, _recovery);

        breaker.Reset();

        Assert.Equal(CircuitState.Closed, breaker.State);
        Assert.Equal((CircuitState.HalfOpen, CircuitState.Closed), (breaker.GetSummary().Transitions[^1].From, breaker.GetSummary().Transitions[^1].To));
    }

    [Fact]
    public void Reset_WhileClosed_ClearsTheConsecutiveCountWithoutATransition()
    {
        var breaker = Create(failureThreshold: 3);
        var recorder = new TransitionRecorder(breaker);
        TestBreakers.Fail(breaker, 2);

        breaker.Reset();

        Assert.Equal(0, breaker.GetSummary().ConsecutiveFailures);
        Assert.Empty(breaker.GetSummary().Transitions);
        Assert.Empty(recorder.Transitions);
        TestBreakers.Fail(breaker, 2);
        Assert.Equal(CircuitState.Closed, breaker.State);

        // The positive control: the same recorder and log do see a transition, and Reset from Open raises one.
        TestBreakers.Fail(breaker);
        breaker.Reset();
        Assert.Equal([(CircuitState.Closed, CircuitState.Open), (CircuitState.Open, CircuitState.Closed)], recorder.Pairs);
        Assert.Equal(2, breaker.GetSummary().Transitions.Count);
    }

    [Fact]
    public void Execute_ShouldHandleFalse_PassesExceptionThroughUnchangedAsIgnored()
    {
        var breaker = Create(failureThreshold: 3, shouldHandle: TestBreakers.IgnoreNotHandled);
        var notHandled = new NotHandledException();
        TestBreakers.Fail(breaker, 2);

        Assert.Same(notHandled, Assert.Throws<NotHandledException>(() => breaker.Execute(() => throw notHandled)));

        CircuitSummary summary = breaker.GetSummary();
        Assert.Equal(1, summary.Ignored);
        Assert.Equal(2, summary.Failed);
        Assert.Equal(2, summary.ConsecutiveFailures); // neither a failure nor a success that resets the count
        TestBreakers.Fail(breaker);
        Assert.Equal(CircuitState.Open, breaker.State);
    }

    [Fact]
    public void Execute_ShouldHandle_ReceivesTheCallbacksException()
    {
        Exception? seen = null;
        var breaker = Create(shouldHandle: ex => { seen = ex; return true; });
        var failure = new TestFailureException();

        Assert.Throws<TestFailureException>(() => breaker.Execute(() => throw failure));

        Assert.Same(failure, seen);
        Assert.Equal(1, breaker.GetSummary().Failed);
    }

    [Fact]
    public void Execute_ShouldHandleFalseInHalfOpen_FreesTheProbeSlotWithoutClosingOrReopening()
    {
        var breaker = Create(failureThreshold: 1, successThreshold: 1, shouldHandle: TestBreakers.IgnoreNotHandled);
        TestBreakers.HalfOpen(breaker, _time, 1, _recovery);

        Assert.Throws<NotHandledException>(() => breaker.Execute(() => throw new NotHandledException()));

        Assert.Equal(CircuitState.HalfOpen, breaker.State);
        Assert.Equal(3, breaker.Execute(() => 3)); // slot free again; this probe closes it
        Assert.Equal(CircuitState.Closed, breaker.State);
    }

    [Fact]
    public void Execute_SyncOperationCanceledException_IsAFailureByDefault()
    {
        // Sync Execute has no caller token, so an OperationCanceledException is an ordinary exception.
        var breaker = Create(failureThreshold: 1);
        using var cts = new CancellationTokenSource();
        cts.Cancel();

        Assert.Throws<OperationCanceledException>(() => breaker.Execute(() => cts.Token.ThrowIfCancellationRequested()));

        Assert.Equal(1, breaker.GetSummary().Failed);
        Assert.Equal(CircuitState.Open, breaker.State);
    }

    [Fact]
    public void Execute_SyncOperationCanceledExceptionNotHandled_IsIgnored()
    {
        var breaker = Create(failureThreshold: 1, shouldHandle: static ex => ex is not OperationCanceledException);

        Assert.Throws<OperationCanceledException>(() => breaker.Execute(() => throw new OperationCanceledException()));

        Assert.Equal(1, breaker.GetSummary().Ignored);
        Assert.Equal(CircuitState.Closed, breaker.State);
    }

    [Fact]
    public void Execute_ShouldHandleThrows_PredicateExceptionSurfacesAndCallCountsAsFailure()
    {
        var predicateBug = new InvalidOperationException("predicate bug");
        var breaker = Create(failureThreshold: 1, shouldHandle: _ => throw predicateBug);

        var thrown = Assert.Throws<InvalidOperationException>(() => breaker.Execute(() => throw new TestFailureException()));

        Assert.Same(predicateBug, thrown);
        Assert.Equal(1, breaker.GetSummary().Failed);
        Assert.Equal(CircuitState.Open, breaker.State);
    }

    [Fact]
    public void Execute_ShouldHandleThrowsForAProbe_SlotIsNotLost()
    {
        var breaker = Create(failureThreshold: 1, shouldHandle: _ => throw new InvalidOperationException("predicate bug"));
        TestBreakers.HalfOpen(breaker, _time, 1, _recovery);

        Assert.Throws<InvalidOperationException>(() => breaker.Execute(() => throw new TestFailureException()));

        // Counted as a failed probe: the circuit reopened instead of staying half-open with its only slot taken.
        Assert.Equal(CircuitState.Open, breaker.State);
        _time.Advance(_recovery);
        Assert.Equal(1, breaker.Execute(() => 1));
    }

    [Fact]
    public void Execute_NullAction_ThrowsArgumentNullException()
    {
        var breaker = Create();

        Assert.Throws<ArgumentNullException>(() => breaker.Execute((Func<int>)null!));
        Assert.Throws<ArgumentNullException>(() => breaker.Execute((Action)null!));
        Assert.Throws<ArgumentNullException>(() => breaker.Execute(null!, (Func<Exception, int>)(_ => 0)));
        Assert.Throws<ArgumentNullException>(() => breaker.Execute(() => 0, null!));
        Assert.Equal(0, breaker.GetSummary().TotalCalls);
    }

    [Fact]
    public void Execute_NestedCallOnSameBreaker_CountsBothCalls()
    {
        var breaker = Create();

        int result = breaker.Execute(() => breaker.Execute(() => 2) + 1);

        Assert.Equal(3, result);
        Assert.Equal(2, breaker.GetSummary().Successful);
    }

    [Fact]
    public void Execute_FullCycle_LogsEveryTransitionInOrderWithTheTimeProvidersTime()
    {
        var breaker = Create(failureThreshold: 1, successThreshold: 1);
        DateTimeOffset start = _time.GetUtcNow();

        Assert.Throws<TestFailureException>(() => breaker.Execute(() => throw new TestFailureException())); // C→O
        _time.Advance(_recovery);
        Assert.Throws<TestFailureException>(() => breaker.Execute(() => throw new TestFailureException())); // O→H, H→O
        _time.Advance(_recovery);
        breaker.Execute(() => 1); // O→H, H→C
        _time.Advance(TimeSpan.FromSeconds(1));
        breaker.Isolate(); // C→I
        _time.Advance(TimeSpan.FromSeconds(1));
        breaker.Reset(); // I→C

        IReadOnlyList<CircuitTransition> log = breaker.GetSummary().Transitions;
        Assert.Equal(
            [
                (CircuitState.Closed, CircuitState.Open, start),
                (CircuitState.Open, CircuitState.HalfOpen, start + _recovery),
                (CircuitState.HalfOpen, CircuitState.Open, start + _recovery),
                (CircuitState.Open, CircuitState.HalfOpen, start + (2 * _recovery)),
                (CircuitState.HalfOpen, CircuitState.Closed, start + (2 * _recovery)),
                (CircuitState.Closed, CircuitState.Isolated, start + (2 * _recovery) + TimeSpan.FromSeconds(1)),
                (CircuitState.Isolated, CircuitState.Closed, start + (2 * _recovery) + TimeSpan.FromSeconds(2)),
            ],
            log.Select(t => (t.From, t.To, t.At)));
        Assert.All(log, t => Assert.Equal("svc", t.CircuitName));
    }

    [Fact]
    public void ToString_ContainsNameAndCurrentState()
    {
        var breaker = Create(failureThreshold: 1);
        Assert.Contains("svc", breaker.ToString(), StringComparison.Ordinal);
        Assert.Contains("Closed", breaker.ToString(), StringComparison.Ordinal);

        TestBreakers.Fail(breaker);

        Assert.Contains("Open", breaker.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("Closed", breaker.ToString(), StringComparison.Ordinal);
    }
}
