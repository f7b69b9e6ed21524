using Microsoft.Extensions.Time.Testing;
using Tripswitch.Tests.Sharing;
using Xunit;

namespace Tripswitch.Tests.Controller;

/// <summary>
/// Manual control and remote state (<c>CircuitStateMachine.Control.cs</c>): what a reset of a closed circuit and a
/// fleet's state applied to an open or half-open one must keep or change. Each test was found by mutation testing
/// (docs/mutation.md): the rest of the suite passed with the rule it checks broken.
/// </summary>
public class CircuitStateMachineControlTests
{
    private readonly FakeTimeProvider _time = TestBreakers.Clock();

    private (CircuitBreaker Breaker, RecordingCoordinator Coordinator) Shared(Action<CircuitBreakerOptions> configure)
    {
        CircuitBreaker breaker = TestBreakers.Create(_time, configure);
        RecordingCoordinator? coordinator = null;
        breaker.SetCoordinator(shared => coordinator = new RecordingCoordinator(shared));
        return (breaker, coordinator!);
    }

    [Fact]
    public void Reset_WhileClosed_StartsExactlyTheNextGeneration()
    {
        // The fleet compares versions: a reset of a closed circuit is one new generation, like a transition.
        (CircuitBreaker breaker, RecordingCoordinator coordinator) = Shared(o => o.FailureThreshold = 3);
        long before = coordinator.Circuit.Version;

        breaker.Reset();
        breaker.Reset(); // from generation 1 too, not only from 0

        Assert.Equal(before + 2, coordinator.Circuit.Version);
        Assert.Equal([(CircuitState.Closed, before + 1), (CircuitState.Closed, before + 2)], coordinator.ManualChanges.ToArray());
        Assert.Equal(CircuitState.Closed, breaker.State);
    }

    [Fact]
    public void Reset_DisabledCircuitWhileClosed_StaysDisabled()
    {
        CircuitBreaker breaker = TestBreakers.Create(_time, o =>
        {
            o.FailureThreshold = 1;
            o.Mode = CircuitBreakerMode.Disabled;
        });

        breaker.Reset();
        TestBreakers.Fail(breaker, 5);

        Assert.Equal(CircuitState.Closed, breaker.State); // a disabled circuit never trips
        Assert.Equal(0, breaker.GetSummary().Failed); // and records nothing
    }

    [Fact]
    public void Reset_WhileClosed_EmptiesTheFailureWindow()
    {
        CircuitBreaker breaker = TestBreakers.Create(_time, o =>
        {
            o.Rule = FailureRule.CountWindow;
            o.WindowSize = 10;
            o.MinimumThroughput = 4;
            o.FailureRatio = 0.5;
        });
        TestBreakers.Fail(breaker, 3); // below the minimum throughput: closed

        breaker.Reset();
        TestBreakers.Fail(breaker, 3); // 3 calls in the new window: still below the minimum

        Assert.Equal(CircuitState.Closed, breaker.State);
        TestBreakers.Fail(breaker); // positive control: the 4th failure of the new window trips it
        Assert.Equal(CircuitState.Open, breaker.State);
    }

    [Fact]
    public void ApplyRemote_ShorterOpenPeriodWhileOpen_CallsAreLetThroughWhenTheFleetsPeriodEnds()
    {
        (CircuitBreaker breaker, RecordingCoordinator coordinator) = Shared(o =>
        {
            o.FailureThreshold = 1;
            o.RecoveryTimeout = TimeSpan.FromSeconds(60);
        });
        TestBreakers.Fail(breaker);
        Assert.False(breaker.TryAcquirePermit(out _, out _)); // rejected without the lock from now on

        Assert.True(coordinator.Circuit.ApplyRemote(CircuitState.Open, TimeSpan.FromSeconds(5), coordinator.Circuit.Version));
        _time.Advance(TimeSpan.FromSeconds(5));

        // The fleet's open period is over: the next caller is let through as a probe, not rejected until the local 60 s end.
        Assert.True(breaker.TryAcquirePermit(out CircuitPermit probe, out _));
        Assert.True(probe.IsProbe);
    }

    [Fact]
    public void ApplyRemote_OpenWhileHalfOpenAfterAFailedProbe_KeepsTheBackoffAttempt()
    {
        (CircuitBreaker breaker, RecordingCoordinator coordinator) = Shared(o =>
        {
            o.FailureThreshold = 1;
            o.RecoveryTimeout = TimeSpan.FromSeconds(10);
            o.RecoveryBackoffMultiplier = 2;
        });
        TestBreakers.Fail(breaker);
        TestBreakers.AssertOpenFor(breaker, _time, TimeSpan.FromSeconds(10)); // attempt 1
        TestBreakers.Fail(breaker); // the probe fails
        TestBreakers.AssertOpenFor(breaker, _time, TimeSpan.FromSeconds(20)); // attempt 2, now half-open

        // The fleet reopens it (another instance's probe failed): not a new opening of a closed circuit.
        Assert.True(coordinator.Circuit.ApplyRemote(CircuitState.Open, TimeSpan.FromSeconds(20), coordinator.Circuit.Version));
        _time.Advance(TimeSpan.FromSeconds(20));
        Assert.Equal(CircuitState.HalfOpen, breaker.State);
        TestBreakers.Fail(breaker); // the next probe fails: attempt 3

        TestBreakers.AssertOpenFor(breaker, _time, TimeSpan.FromSeconds(40));
    }

    [Fact]
    public void ApplyRemote_Transition_IsDeliveredToStateChangedBeforeItReturns()
    {
        (CircuitBreaker breaker, RecordingCoordinator coordinator) = Shared(o => o.FailureThreshold = 5);
        var seen = new List<CircuitTransition>();
        breaker.StateChanged += (_, transition) => seen.Add(transition);

        Assert.True(coordinator.Circuit.ApplyRemote(CircuitState.Open, TimeSpan.FromSeconds(5), coordinator.Circuit.Version));

        CircuitTransition opened = Assert.Single(seen);
        Assert.Equal(CircuitState.Closed, opened.From);
        Assert.Equal(CircuitState.Open, opened.To);
    }

    [Fact]
    public void ApplyRemote_HalfOpenAfterTheCircuitClosed_AFailedProbeStartsTheBackoffOver()
    {
        (CircuitBreaker breaker, RecordingCoordinator coordinator) = Shared(o =>
        {
            o.FailureThreshold = 1;
            o.RecoveryTimeout = TimeSpan.FromSeconds(10);
            o.RecoveryBackoffMultiplier = 2;
            o.SuccessThreshold = 1;
        });
        TestBreakers.Fail(breaker);
        TestBreakers.AssertOpenFor(breaker, _time, TimeSpan.FromSeconds(10));
        TestBreakers.Fail(breaker); // a failed probe: attempt 2
        TestBreakers.AssertOpenFor(breaker, _time, TimeSpan.FromSeconds(20));
        TestBreakers.Succeed(breaker); // the probe closes it: the backoff is over
        Assert.Equal(CircuitState.Closed, breaker.State);

        // The fleet moved on to half-open (another instance tripped it); this instance's probe fails.
        Assert.True(coordinator.Circuit.ApplyRemote(CircuitState.HalfOpen, TimeSpan.Zero, coordinator.Circuit.Version));
        TestBreakers.Fail(breaker);

        TestBreakers.AssertOpenFor(breaker, _time, TimeSpan.FromSeconds(10)); // attempt 1 again, not 3
    }

    [Fact]
    public void RecordSuccess_ProbeGrantedBeforeTheFleetWasAttached_IsNotReportedToIt()
    {
        CircuitBreaker breaker = TestBreakers.Create(_time, o =>
        {
            o.FailureThreshold = 1;
            o.SuccessThreshold = 2;
        });
        TestBreakers.HalfOpen(breaker, _time, 1, breaker.Options.RecoveryTimeout);
        CircuitPermit probe = breaker.AcquirePermit(); // no fleet yet: the probe holds no lease
        RecordingCoordinator? coordinator = null;
        breaker.SetCoordinator(shared => coordinator = new RecordingCoordinator(shared));

        probe.RecordSuccess();

        Assert.Empty(coordinator!.Probes); // a lease it never took is not given back
        Assert.Equal(CircuitState.HalfOpen, breaker.State);
    }

    [Fact]
    public void RecordFailure_ProbeWithARetryAfterHint_ReopensWithoutASeparateHintToTheFleet()
    {
        (CircuitBreaker breaker, RecordingCoordinator coordinator) = Shared(o =>
        {
            o.FailureThreshold = 1;
            o.RecoveryTimeout = TimeSpan.FromSeconds(10);
        });
        TestBreakers.Fail(breaker);
        _time.Advance(TimeSpan.FromSeconds(10));
        CircuitPermit probe = breaker.AcquirePermit();

        probe.RecordFailure(new TestFailureException(), TimeSpan.FromSeconds(30));

        (long _, Tripswitch.Sharing.ProbeOutcome outcome, TimeSpan reopenFor) = Assert.Single(coordinator.Probes);
        Assert.Equal(Tripswitch.Sharing.ProbeOutcome.Failed, outcome);
        Assert.Equal(TimeSpan.FromSeconds(30), reopenFor); // the hint travels with the probe's outcome
        Assert.Empty(coordinator.Hints); // and only there
    }

    [Fact]
    public void ApplyRemote_ZeroOpenPeriodWhileOpen_TheNextCallerIsLetThroughAsAProbe()
    {
        // The fleet's open period is already over: nothing to wait for, and no timer to wait on.
        (CircuitBreaker breaker, RecordingCoordinator coordinator) = Shared(o =>
        {
            o.FailureThreshold = 1;
            o.RecoveryTimeout = TimeSpan.FromSeconds(60);
        });
        TestBreakers.Fail(breaker);
        Assert.False(breaker.TryAcquirePermit(out _, out _)); // rejected without the lock from now on

        Assert.True(coordinator.Circuit.ApplyRemote(CircuitState.Open, TimeSpan.Zero, coordinator.Circuit.Version));

        Assert.True(breaker.TryAcquirePermit(out CircuitPermit probe, out _));
        Assert.True(probe.IsProbe);
    }
}
