using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Tripswitch.Tests.Controller;

/// <summary>
/// Outcomes (<c>CircuitStateMachine.Outcomes.cs</c>): a success resets the run of failures on every path that reports
/// one and in every generation, not only the first. Found by mutation testing (docs/mutation.md).
/// </summary>
public class CircuitStateMachineOutcomesTests
{
    private static readonly TimeSpan _recovery = TimeSpan.FromSeconds(10);

    private readonly FakeTimeProvider _time = TestBreakers.Clock();

    private CircuitBreaker Create(Action<CircuitBreakerOptions>? configure = null)
        => TestBreakers.Create(_time, o =>
        {
            o.FailureThreshold = 3;
            o.RecoveryTimeout = _recovery;
            configure?.Invoke(o);
        });

    [Fact]
    public void Execute_SuccessBetweenFailures_ResetsTheRun()
    {
        // The sync Execute overloads report on the acquiring thread (their own fast path).
        CircuitBreaker breaker = Create();

        Calls.Fail(breaker, 2);
        Calls.Succeed(breaker);
        Calls.Fail(breaker, 2);

        Assert.Equal(CircuitState.Closed, breaker.State);
        Assert.Equal(2, breaker.GetSummary().ConsecutiveFailures);
        Calls.Fail(breaker); // positive control: three in a row trip it
        Assert.Equal(CircuitState.Open, breaker.State);
    }

    [Fact]
    public void RecordSuccess_AfterAReset_StillResetsTheRun()
    {
        // Generation 1 and later: the count is tagged with the generation, and a success of that generation resets it.
        CircuitBreaker breaker = Create();
        breaker.Reset();

        TestBreakers.Fail(breaker, 2);
        TestBreakers.Succeed(breaker);
        TestBreakers.Fail(breaker, 2);

        Assert.Equal(CircuitState.Closed, breaker.State);
        Assert.Equal(2, breaker.GetSummary().ConsecutiveFailures);
    }

    [Fact]
    public void Execute_SuccessAfterTheCircuitClosedAgain_ResetsTheRun()
    {
        CircuitBreaker breaker = Create(o => o.SuccessThreshold = 1);
        TestBreakers.HalfOpen(breaker, _time, 3, _recovery);
        TestBreakers.Succeed(breaker); // the probe closes it: a later generation
        Assert.Equal(CircuitState.Closed, breaker.State);

        Calls.Fail(breaker, 2);
        Calls.Succeed(breaker);
        Calls.Fail(breaker, 2);

        Assert.Equal(CircuitState.Closed, breaker.State);
        Assert.Equal(2, breaker.GetSummary().ConsecutiveFailures);
    }

    [Fact]
    public void RecordSuccess_TimedCallsAfterAReset_ResetsTheRun()
    {
        // Timed calls (a slow-call threshold) report through the slow path: the same rule, in generation 1.
        CircuitBreaker breaker = Create(o => o.SlowCallThreshold = TimeSpan.FromSeconds(5));
        breaker.Reset();

        TestBreakers.Fail(breaker, 2);
        TestBreakers.Succeed(breaker);
        TestBreakers.Fail(breaker, 2);

        Assert.Equal(CircuitState.Closed, breaker.State);
        Assert.Equal(2, breaker.GetSummary().ConsecutiveFailures);
    }

    [Fact]
    public void RecordSuccess_StartedBeforeAReset_IsNotCountedInTheNewWindow()
    {
        CircuitBreaker breaker = Create(o =>
        {
            o.Rule = FailureRule.CountWindow;
            o.WindowSize = 10;
            o.MinimumThroughput = 2;
            o.FailureRatio = 1;
        });
        CircuitPermit late = breaker.AcquirePermit(); // generation 0
        breaker.Reset();

        TestBreakers.Fail(breaker);
        late.RecordSuccess(); // counted in the metrics, not in the window of generation 1
        TestBreakers.Fail(breaker); // 2 of 2 calls of the new window failed

        Assert.Equal(CircuitState.Open, breaker.State);
        Assert.Equal(1, breaker.GetSummary().Successful);
    }

    [Fact]
    public void RecordOutcome_CallerCancelsExactlyAtTheSlowCallThreshold_IsIgnored()
    {
        CircuitBreaker breaker = Create(o =>
        {
            o.FailureThreshold = 1;
            o.SlowCallThreshold = TimeSpan.FromSeconds(1);
        });

        Assert.Equal(CallOutcome.CallerCancelled, CancelAfter(breaker, TimeSpan.FromSeconds(1))); // not slower than the threshold

        Assert.Equal(CircuitState.Closed, breaker.State);
        Assert.Equal(1, breaker.GetSummary().Ignored);
        Assert.Equal(0, breaker.GetSummary().Failed);
    }

    [Fact]
    public void RecordOutcome_CallerCancelsASlowCall_TheTripsCauseNamesTheCircuitAndTheThreshold()
    {
        CircuitBreaker breaker = Create(o =>
        {
            o.FailureThreshold = 1;
            o.SlowCallThreshold = TimeSpan.FromSeconds(1);
        });

        CancelAfter(breaker, TimeSpan.FromSeconds(1) + TimeSpan.FromTicks(1));

        Assert.Equal(CircuitState.Open, breaker.State);
        Exception cause = Assert.IsType<TimeoutException>(breaker.GetSummary().Transitions[^1].Cause);
        Assert.Contains("'test'", cause.Message, StringComparison.Ordinal);
        Assert.Contains(TimeSpan.FromSeconds(1).ToString(), cause.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RecordOutcome_CallerCancelsASlowCallWhenSlowCallsHaveTheirOwnRatio_IsIgnored()
    {
        // With a SlowCallRatio, slow calls are judged by that ratio, not as failures: a cancelled slow call is ignored.
        CircuitBreaker breaker = Create(o =>
        {
            o.Rule = FailureRule.CountWindow;
            o.WindowSize = 10;
            o.MinimumThroughput = 1;
            o.FailureRatio = 0.5;
            o.SlowCallRatio = 0.5;
            o.SlowCallThreshold = TimeSpan.FromSeconds(1);
        });

        CancelAfter(breaker, TimeSpan.FromSeconds(5));

        Assert.Equal(CircuitState.Closed, breaker.State);
        Assert.Equal(1, breaker.GetSummary().Ignored);
        Assert.Equal(0, breaker.GetSummary().Failed);
    }

    private CallOutcome CancelAfter(CircuitBreaker breaker, TimeSpan elapsed)
    {
        using var cts = new CancellationTokenSource();
        CircuitPermit permit = breaker.AcquirePermit();
        _time.Advance(elapsed);
        cts.Cancel();
        return permit.RecordOutcome(new OperationCanceledException(cts.Token), cts.Token);
    }

    [Fact]
    public void MetricsOnly_ShadowCallsWhileOpen_NeitherResetNorAddToTheRunOfFailures()
    {
        CircuitBreaker breaker = Create(o => o.Mode = CircuitBreakerMode.MetricsOnly);
        TestBreakers.Trip(breaker, 3);

        TestBreakers.Succeed(breaker); // a shadow call: would have been rejected
        Assert.Equal(3, breaker.GetSummary().ConsecutiveFailures);
        TestBreakers.Fail(breaker);
        Assert.Equal(3, breaker.GetSummary().ConsecutiveFailures);

        Assert.Equal(2, breaker.GetSummary().ShadowRejected);
    }

    [Fact]
    public void RecordSuccess_ProbeAfterItsTimeout_ReopensDuringTheReportNotAtTheNextRead()
    {
        CircuitBreaker breaker = Create(o =>
        {
            o.FailureThreshold = 1;
            o.HalfOpenProbeTimeout = TimeSpan.FromSeconds(5);
        });
        TestBreakers.HalfOpen(breaker, _time, 1, _recovery);
        CircuitPermit probe = breaker.AcquirePermit();
        _time.Advance(TimeSpan.FromSeconds(5));
        var seen = new List<CircuitTransition>();
        breaker.StateChanged += (_, transition) => seen.Add(transition);

        probe.RecordSuccess(); // too late: it counts as failed, now

        CircuitTransition reopened = Assert.Single(seen);
        Assert.Equal(CircuitState.Open, reopened.To);
        Assert.IsType<TimeoutException>(reopened.Cause);
    }
}
