using Microsoft.Extensions.Time.Testing;
using Tripswitch.Testing;
using Xunit;

namespace Tripswitch.Tests.Controller;

/// <summary>
/// Generations (late outcomes never move a newer state) and the consecutive-failure count, decided in
/// <c>CircuitStateMachine</c>.
/// </summary>
public class CircuitStateMachineTests
{
    private static readonly TimeSpan _recovery = TimeSpan.FromSeconds(30);

    private readonly FakeTimeProvider _time = new();

    private CircuitBreaker Create(int failureThreshold = 1, int successThreshold = 1, int halfOpenMaxCalls = 1)
        => TestBreakers.Create(_time, o =>
        {
            o.FailureThreshold = failureThreshold;
            o.SuccessThreshold = successThreshold;
            o.HalfOpenMaxCalls = halfOpenMaxCalls;
            o.RecoveryTimeout = _recovery;
        });

    [Fact]
    public void LateSuccess_StartedClosedFinishedHalfOpen_DoesNotCloseTheCircuit()
    {
        var breaker = Create(failureThreshold: 1, successThreshold: 1);
        CircuitPermit late = breaker.AcquirePermit(); // started while closed
        TestBreakers.HalfOpen(breaker, _time, 1, _recovery);

        late.RecordSuccess(); // SuccessThreshold 1: a probe's success would close it

        Assert.Equal(CircuitState.HalfOpen, breaker.State);
        Assert.Equal(1, breaker.GetSummary().Successful); // still counted in the metrics
        CircuitPermit probe = breaker.AcquirePermit(); // and the probe slot is still free
        Assert.True(probe.IsProbe);
    }

    [Fact]
    public void LateFailure_StartedClosedFinishedHalfOpen_DoesNotReopenTheCircuit()
    {
        var breaker = Create(failureThreshold: 1);
        CircuitPermit late = breaker.AcquirePermit();
        TestBreakers.HalfOpen(breaker, _time, 1, _recovery);
        int consecutiveBefore = breaker.GetSummary().ConsecutiveFailures;

        late.RecordFailure(new TestFailureException());

        Assert.Equal(CircuitState.HalfOpen, breaker.State);
        Assert.Equal(consecutiveBefore, breaker.GetSummary().ConsecutiveFailures);
        Assert.Equal(2, breaker.GetSummary().Failed); // the trip and the late one
        Assert.Equal(2, breaker.GetSummary().Transitions.Count); // C→O, O→H only
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void LateOutcome_ExecuteOnAnotherThreadStartedClosedFinishedHalfOpen_DoesNotMoveTheHalfOpenState(bool fails)
    {
        var breaker = Create(failureThreshold: 1, successThreshold: 1);
        using var started = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        Exception? observed = null;
        var thread = new Thread(() =>
        {
            observed = Record.Exception(() => breaker.Execute(() =>
            {
                started.Set();
                release.Wait(TestContext.Current.CancellationToken);
                return fails ? throw new TestFailureException() : 1;
            }));
        });
        thread.Start();
        started.Wait(TestContext.Current.CancellationToken);

        TestBreakers.Fail(breaker); // another caller trips it while the first call is in flight
        _time.Advance(_recovery);
        Assert.Equal(CircuitState.HalfOpen, breaker.State);
        release.Set();
        Eventually.Ended(thread, "the released call's thread");

        if (fails)
        {
            Assert.IsType<TestFailureException>(observed);
        }
        else
        {
            Assert.Null(observed);
        }

        Assert.Equal(CircuitState.HalfOpen, breaker.State);
        Assert.Equal([(CircuitState.Closed, CircuitState.Open), (CircuitState.Open, CircuitState.HalfOpen)], breaker.GetSummary().Transitions.Select(t => (t.From, t.To)));
        Assert.True(breaker.AcquirePermit().IsProbe); // the half-open period's only slot is untouched
    }

    [Fact]
    public void LateFailure_StartedClosedFinishedWhileOpen_DoesNotExtendTheOpenPeriod()
    {
        var breaker = Create(failureThreshold: 1);
        CircuitPermit late = breaker.AcquirePermit();
        TestBreakers.Trip(breaker, 1);
        _time.Advance(TimeSpan.FromSeconds(20));

        late.RecordFailure(new TestFailureException());

        Assert.Equal(TimeSpan.FromSeconds(10), breaker.GetSummary().RetryAfter);
        Assert.Single(breaker.GetSummary().Transitions);
        _time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(CircuitState.HalfOpen, breaker.State);
    }

    [Fact]
    public void LateSuccess_FromAnOldClosedGeneration_DoesNotResetTheNewClosedCount()
    {
        var breaker = Create(failureThreshold: 3, successThreshold: 1);
        CircuitPermit late = breaker.AcquirePermit(); // closed generation #1
        TestBreakers.HalfOpen(breaker, _time, 3, _recovery);
        TestBreakers.Succeed(breaker); // probe closes it: closed generation #2
        TestBreakers.Fail(breaker, 2);

        late.RecordSuccess();

        Assert.Equal(2, breaker.GetSummary().ConsecutiveFailures);
        TestBreakers.Fail(breaker);
        Assert.Equal(CircuitState.Open, breaker.State);
    }

    [Fact]
    public void LateFailure_FromAnOldClosedGeneration_DoesNotCountTowardTheNewClosedCount()
    {
        var breaker = Create(failureThreshold: 3, successThreshold: 1);
        CircuitPermit late = breaker.AcquirePermit();
        TestBreakers.HalfOpen(breaker, _time, 3, _recovery);
        TestBreakers.Succeed(breaker);
        TestBreakers.Fail(breaker, 2);

        late.RecordFailure(new TestFailureException());

        Assert.Equal(CircuitState.Closed, breaker.State);
        Assert.Equal(2, breaker.GetSummary().ConsecutiveFailures);
    }

    [Fact]
    public void LateOutcome_StartedBeforeReset_DoesNotCountInTheClosedStateAfterReset()
    {
        var breaker = Create(failureThreshold: 2);
        CircuitPermit late = breaker.AcquirePermit();
        TestBreakers.Fail(breaker, 2);
        breaker.Reset(); // Open → Closed: a new generation
        TestBreakers.Fail(breaker);

        late.RecordFailure();

        Assert.Equal(CircuitState.Closed, breaker.State);
        Assert.Equal(1, breaker.GetSummary().ConsecutiveFailures);
    }

    [Fact]
    public void LateFailure_WhileIsolated_KeepsItIsolated()
    {
        var breaker = Create(failureThreshold: 1);
        CircuitPermit late = breaker.AcquirePermit();
        breaker.Isolate();

        late.RecordFailure();

        Assert.Equal(CircuitState.Isolated, breaker.State);
        Assert.Single(breaker.GetSummary().Transitions);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void LateProbe_FromAnEarlierHalfOpenPeriod_DoesNotMoveTheNewHalfOpenPeriod(bool lateProbeFails)
    {
        var breaker = Create(failureThreshold: 1, successThreshold: 1, halfOpenMaxCalls: 2);
        TestBreakers.HalfOpen(breaker, _time, 1, _recovery);
        CircuitPermit oldProbe = breaker.AcquirePermit();
        CircuitPermit failingProbe = breaker.AcquirePermit();
        failingProbe.RecordFailure(); // reopens
        _time.Advance(_recovery);
        Assert.Equal(CircuitState.HalfOpen, breaker.State); // a new half-open period
        int transitions = breaker.GetSummary().Transitions.Count;

        if (lateProbeFails)
        {
            oldProbe.RecordFailure();
        }
        else
        {
            oldProbe.RecordSuccess();
        }

        Assert.Equal(CircuitState.HalfOpen, breaker.State);
        Assert.Equal(transitions, breaker.GetSummary().Transitions.Count);

        // The new period still has both of its slots.
        Assert.True(breaker.AcquirePermit().IsProbe);
        Assert.True(breaker.AcquirePermit().IsProbe);
        Assert.False(breaker.TryAcquirePermit(out _, out _));
    }

    [Fact]
    public void LateProbe_ArrivingAfterTheCircuitClosed_DoesNotResetTheClosedCount()
    {
        var breaker = Create(failureThreshold: 3, successThreshold: 1, halfOpenMaxCalls: 2);
        TestBreakers.HalfOpen(breaker, _time, 3, _recovery);
        CircuitPermit slowProbe = breaker.AcquirePermit();
        breaker.AcquirePermit().RecordSuccess(); // closes
        TestBreakers.Fail(breaker, 2);

        slowProbe.RecordSuccess();

        Assert.Equal(2, breaker.GetSummary().ConsecutiveFailures);
        TestBreakers.Fail(breaker);
        Assert.Equal(CircuitState.Open, breaker.State);
    }

    [Fact]
    public void ConsecutiveFailures_KeepsItsValueWhileOpenAndHalfOpen()
    {
        var breaker = Create(failureThreshold: 3);
        TestBreakers.Trip(breaker, 3);

        Assert.Equal(3, breaker.GetSummary().ConsecutiveFailures);
        _time.Advance(_recovery);
        Assert.Equal(CircuitState.HalfOpen, breaker.State);
        Assert.Equal(3, breaker.GetSummary().ConsecutiveFailures);
    }

    [Fact]
    public void ConsecutiveFailures_FailedProbe_AddsOne()
    {
        var breaker = Create(failureThreshold: 3);
        TestBreakers.HalfOpen(breaker, _time, 3, _recovery);

        TestBreakers.Fail(breaker); // the probe

        Assert.Equal(4, breaker.GetSummary().ConsecutiveFailures);
        _time.Advance(_recovery);
        TestBreakers.Fail(breaker);
        Assert.Equal(5, breaker.GetSummary().ConsecutiveFailures);
    }

    [Fact]
    public void ConsecutiveFailures_SuccessfulProbeThatDoesNotCloseYet_ResetsTheCount()
    {
        // "Handled failures since the last success or reset": a successful probe is a success.
        var breaker = Create(failureThreshold: 3, successThreshold: 2);
        TestBreakers.HalfOpen(breaker, _time, 3, _recovery);

        TestBreakers.Succeed(breaker);

        Assert.Equal(CircuitState.HalfOpen, breaker.State);
        Assert.Equal(0, breaker.GetSummary().ConsecutiveFailures);
    }

    [Fact]
    public void ConsecutiveFailures_ClosingAfterProbes_IsZero()
    {
        var breaker = Create(failureThreshold: 3, successThreshold: 1);
        TestBreakers.HalfOpen(breaker, _time, 3, _recovery);

        TestBreakers.Succeed(breaker);

        Assert.Equal(CircuitState.Closed, breaker.State);
        Assert.Equal(0, breaker.GetSummary().ConsecutiveFailures);
    }

    [Fact]
    public void ConsecutiveFailures_IsolatedThenReset_IsZero()
    {
        var breaker = Create(failureThreshold: 3);
        TestBreakers.Fail(breaker, 2);

        breaker.Isolate();
        Assert.Equal(2, breaker.GetSummary().ConsecutiveFailures);
        breaker.Reset();

        Assert.Equal(0, breaker.GetSummary().ConsecutiveFailures);
    }

    [Fact]
    public void RawState_OpenPeriodOver_DoesNotTransitionUntilStateIsRead()
    {
        var breaker = Create(failureThreshold: 1);
        TestBreakers.Trip(breaker, 1);
        _time.Advance(_recovery);

        Assert.Equal(CircuitState.Open, breaker.Machine.RawState);
        Assert.Equal(CircuitState.HalfOpen, breaker.State);
        Assert.Equal(CircuitState.HalfOpen, breaker.Machine.RawState);
    }

    [Fact]
    public void InFlight_CountsGrantedPermitsUntilTheyReport()
    {
        var breaker = Create(failureThreshold: 5);
        CircuitPermit a = breaker.AcquirePermit();
        CircuitPermit b = breaker.AcquirePermit();
        Assert.Equal(2, breaker.Machine.Counts.InFlight);

        a.RecordSuccess();
        Assert.Equal(1, breaker.Machine.Counts.InFlight);
        b.RecordIgnored();
        Assert.Equal(0, breaker.Machine.Counts.InFlight);
    }

    [Fact]
    public void ToTimestampTicks_ConvertsDurationsExactlyForCommonFrequencies()
    {
        Assert.Equal(600_000_000L, Tripswitch.Controller.CircuitStateMachine.ToTimestampTicks(TimeSpan.FromSeconds(60), TimeSpan.TicksPerSecond));
        Assert.Equal(60_000_000_000L, Tripswitch.Controller.CircuitStateMachine.ToTimestampTicks(TimeSpan.FromSeconds(60), 1_000_000_000));
        Assert.Equal(1_000_000L, Tripswitch.Controller.CircuitStateMachine.ToTimestampTicks(TimeSpan.FromMilliseconds(1), 1_000_000_000));
        Assert.Equal(86_400_000_000_000L, Tripswitch.Controller.CircuitStateMachine.ToTimestampTicks(TimeSpan.FromDays(1), 1_000_000_000));
    }

    [Fact]
    public void Trip_ResetWhileTheOpenPeriodIsComputed_TheResetWins()
    {
        // Found by mutation testing: the open period is computed (user code) before the lock is taken; a reset in
        // between starts a new closed generation, and the failure of the old one must not open it.
        CircuitBreaker breaker = null!;
        int calls = 0;
        breaker = TestBreakers.Create(_time, o =>
        {
            o.FailureThreshold = 1;
            o.BreakDurationGenerator = _ =>
            {
                if (Interlocked.Increment(ref calls) == 1)
                {
                    breaker.Reset();
                }

                return _recovery;
            };
        });

        TestBreakers.Fail(breaker);

        Assert.Equal(CircuitState.Closed, breaker.State);
        Assert.Empty(breaker.GetSummary().Transitions);
        TestBreakers.Fail(breaker); // positive control: a failure of the new generation trips it
        Assert.Equal(CircuitState.Open, breaker.State);
    }

    [Fact]
    public void FailedProbe_ResetWhileItsOpenPeriodIsComputed_TheResetWins()
    {
        // Found by mutation testing: a reset while a failed probe's open period is computed (user code, outside the
        // lock) frees the probe's slot, so the probe's failure must not reopen the circuit.
        CircuitBreaker breaker = null!;
        int calls = 0;
        breaker = TestBreakers.Create(_time, o =>
        {
            o.FailureThreshold = 1;
            o.RecoveryTimeout = _recovery;
            o.BreakDurationGenerator = _ =>
            {
                if (Interlocked.Increment(ref calls) == 2)
                {
                    breaker.Reset(); // while the probe's failure is being turned into an open period
                }

                return _recovery;
            };
        });
        TestBreakers.HalfOpen(breaker, _time, 1, _recovery);
        CircuitPermit probe = breaker.AcquirePermit();

        probe.RecordFailure(new TestFailureException());

        Assert.Equal(CircuitState.Closed, breaker.State);
        Assert.Equal(CircuitState.Closed, breaker.GetSummary().Transitions[^1].To);
        Assert.Equal(0, breaker.GetSummary().ConsecutiveFailures);
    }
}
