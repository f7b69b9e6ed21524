using Microsoft.Extensions.Time.Testing;
using Tripswitch.Sharing;
using Xunit;

namespace Tripswitch.Tests.Sharing;

/// <summary>
/// <see cref="CircuitCoordinator.JudgesFailureWindow"/>: while the fleet judges a window rule, the local window keeps
/// counting but never trips the circuit alone; the fleet's verdict arrives through ApplyRemote; when the fleet stops
/// judging (its store is unreachable), the window that kept counting judges the next failure at once.
/// </summary>
public class FleetJudgedWindowTests
{
    private static (CircuitBreaker Breaker, RecordingCoordinator Coordinator) Attach(FakeTimeProvider time, Action<CircuitBreakerOptions> configure)
    {
        CircuitBreaker breaker = TestBreakers.Create(time, configure);
        RecordingCoordinator? coordinator = null;
        breaker.SetCoordinator(shared => coordinator = new RecordingCoordinator(shared) { JudgeWindow = true });
        return (breaker, coordinator!);
    }

    private static void CountWindow(CircuitBreakerOptions options)
    {
        options.Rule = FailureRule.CountWindow;
        options.WindowSize = 20;
        options.MinimumThroughput = 10;
        options.FailureRatio = 0.5;
    }

    private static void TimeWindow(CircuitBreakerOptions options)
    {
        options.Rule = FailureRule.TimeWindow;
        options.SamplingDuration = TimeSpan.FromSeconds(10);
        options.MinimumThroughput = 10;
        options.FailureRatio = 0.5;
    }

    public static TheoryData<string> Rules => ["count", "time"];

    private static Action<CircuitBreakerOptions> RuleNamed(string rule) => rule == "count" ? CountWindow : TimeWindow;

    [Theory]
    [MemberData(nameof(Rules))]
    public void JudgedByTheFleet_TheLocalWindowDoesNotTrip_ButTheFleetsVerdictOpensIt(string rule)
    {
        var time = new FakeTimeProvider();
        (CircuitBreaker breaker, RecordingCoordinator coordinator) = Attach(time, RuleNamed(rule));

        TestBreakers.Fail(breaker, 15); // 15 of 15 failed: alone, the window would have opened at the 10th
        Assert.Equal(CircuitState.Closed, breaker.State);
        Assert.Empty(coordinator.Trips);

        // The fleet's verdict, through the seam: the state machine makes the transition.
        Assert.True(coordinator.Circuit.ApplyRemote(CircuitState.Open, TimeSpan.FromSeconds(30), coordinator.Circuit.Version));
        Assert.Equal(CircuitState.Open, TestBreakers.Rejection(breaker).State);
        Assert.Empty(coordinator.Trips); // not a local trip
    }

    [Theory]
    [MemberData(nameof(Rules))]
    public void FleetStopsJudging_TheWindowKeptCounting_AndTheNextFailureTripsAtOnce(string rule)
    {
        var time = new FakeTimeProvider();
        (CircuitBreaker breaker, RecordingCoordinator coordinator) = Attach(time, RuleNamed(rule));
        TestBreakers.Succeed(breaker, 5);
        TestBreakers.Fail(breaker, 9); // 9 of 14 failed: enough, but the fleet judges
        Assert.Equal(CircuitState.Closed, breaker.State);

        coordinator.JudgeWindow = false; // the store became unreachable
        TestBreakers.Fail(breaker);

        Assert.Equal(CircuitState.Open, TestBreakers.Rejection(breaker).State);
        Assert.Single(coordinator.Trips); // a local trip, told to the coordinator as always
    }

    [Fact]
    public void SlowCallRatio_JudgedByTheFleet_SlowSuccessesDoNotTripAlone()
    {
        var time = new FakeTimeProvider();
        (CircuitBreaker breaker, RecordingCoordinator coordinator) = Attach(time, o =>
        {
            CountWindow(o);
            o.SlowCallThreshold = TimeSpan.FromSeconds(1);
            o.SlowCallRatio = 0.5;
        });

        for (int i = 0; i < 12; i++)
        {
            breaker.Execute(() => time.Advance(TimeSpan.FromSeconds(2)));
        }

        Assert.Equal(CircuitState.Closed, breaker.State);
        Assert.Equal(12, coordinator.Circuit.ReadCounts().Slow);

        coordinator.JudgeWindow = false;
        breaker.Execute(() => time.Advance(TimeSpan.FromSeconds(2)));
        Assert.Equal(CircuitState.Open, breaker.State);
    }

    [Fact]
    public void ConsecutiveRule_IgnoresTheHook()
    {
        var time = new FakeTimeProvider();
        (CircuitBreaker breaker, RecordingCoordinator coordinator) = Attach(time, o => o.FailureThreshold = 3);

        TestBreakers.Fail(breaker, 3);

        Assert.Equal(CircuitState.Open, TestBreakers.Rejection(breaker).State);
        Assert.Single(coordinator.Trips);
    }

    [Fact]
    public void DefaultCoordinator_DoesNotJudgeTheWindow()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = TestBreakers.Create(time, CountWindow);
        RecordingCoordinator? coordinator = null;
        breaker.SetCoordinator(shared => coordinator = new RecordingCoordinator(shared));

        TestBreakers.Fail(breaker, 10);

        Assert.False(coordinator!.JudgesFailureWindow);
        Assert.Equal(CircuitState.Open, TestBreakers.Rejection(breaker).State);
    }
}
