using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Tripswitch.Tests.Controller;

/// <summary>
/// A reconfiguration of a running circuit (what a Hosting reload does through the registry) applies every new option,
/// not only the window's: the consecutive threshold, the probe slots, the mode. Found by mutation testing
/// (docs/mutation.md): <c>ReconfigureWindowTests</c> covered the window and nothing else.
/// </summary>
public class CircuitStateMachineReconfigureTests
{
    private static readonly TimeSpan _recovery = TimeSpan.FromSeconds(10);

    private readonly FakeTimeProvider _time = TestBreakers.Clock();

    private CircuitBreakerOptions Options(Action<CircuitBreakerOptions>? configure = null)
        => TestBreakers.Options(_time, "test", o =>
        {
            o.RecoveryTimeout = _recovery;
            configure?.Invoke(o);
        });

    [Fact]
    public void Reconfigure_FailureThresholdLowered_TheNextFailureCountsAgainstTheNewThreshold()
    {
        var breaker = new CircuitBreaker(Options(o => o.FailureThreshold = 5));
        TestBreakers.Fail(breaker, 2);

        breaker.Reconfigure(Options(o => o.FailureThreshold = 3));
        TestBreakers.Fail(breaker); // the 3rd failure in a row: the new threshold

        Assert.Equal(CircuitState.Open, breaker.State);
    }

    [Fact]
    public void Reconfigure_HalfOpenMaxCallsRaisedWhileHalfOpen_GrantsTheNewNumberOfProbes()
    {
        var breaker = new CircuitBreaker(Options(o => o.FailureThreshold = 1));
        TestBreakers.HalfOpen(breaker, _time, 1, _recovery);
        Assert.True(breaker.AcquirePermit().IsProbe);
        TestBreakers.Rejection(breaker); // the one slot is taken

        breaker.Reconfigure(Options(o =>
        {
            o.FailureThreshold = 1;
            o.HalfOpenMaxCalls = 3;
        }));

        Assert.True(breaker.AcquirePermit().IsProbe);
        Assert.True(breaker.AcquirePermit().IsProbe);
        TestBreakers.Rejection(breaker); // three in flight: the new limit
    }

    [Fact]
    public void Reconfigure_HalfOpenProbeTimeoutShortened_AProbeInFlightTimesOutAtTheNewTimeout()
    {
        var breaker = new CircuitBreaker(Options(o => o.FailureThreshold = 1));
        TestBreakers.HalfOpen(breaker, _time, 1, _recovery);
        _ = breaker.AcquirePermit();

        breaker.Reconfigure(Options(o =>
        {
            o.FailureThreshold = 1;
            o.HalfOpenProbeTimeout = TimeSpan.FromSeconds(5);
        }));
        _time.Advance(TimeSpan.FromSeconds(5));

        Assert.Equal(CircuitState.Open, breaker.State); // the hung probe failed at the new timeout, not the default 2 min
    }

    [Fact]
    public void Reconfigure_OpenCircuitToDisabledAndBack_LetsEverythingPassThenIsOpenAgain()
    {
        var breaker = new CircuitBreaker(Options(o => o.FailureThreshold = 1));
        TestBreakers.Trip(breaker, 1);

        breaker.Reconfigure(Options(o =>
        {
            o.FailureThreshold = 1;
            o.Mode = CircuitBreakerMode.Disabled;
        }));
        TestBreakers.Fail(breaker, 3); // disabled: every call passes, nothing is recorded
        Assert.Equal(1, breaker.GetSummary().Failed);

        breaker.Reconfigure(Options(o => o.FailureThreshold = 1));

        Assert.Equal(CircuitState.Open, breaker.State); // the state it had is kept
        TestBreakers.Rejection(breaker);
        Assert.Equal(1, breaker.GetSummary().StateChanges);
    }

    [Fact]
    public void Reconfigure_AnotherTimeProvider_ThrowsNamingTheCircuit()
    {
        var breaker = new CircuitBreaker(Options(o => o.FailureThreshold = 1));

        ArgumentException error = Assert.Throws<ArgumentException>(() => breaker.Reconfigure(TestBreakers.Options(TestBreakers.Clock(), "test")));

        Assert.Contains("'test'", error.Message, StringComparison.Ordinal);
        Assert.Contains("TimeProvider", error.Message, StringComparison.Ordinal);
        TestBreakers.Trip(breaker, 1); // the circuit runs on with its options
    }

    [Fact]
    public void Reconfigure_AnotherWindowShape_DisposesTheReplacedWindowsTimer()
    {
        // The replaced time window's bucket timer is stopped at once, not left to fire until the collector gets to it.
        var time = new TimerTrackingTimeProvider();
        CircuitBreakerOptions WindowOf(TimeSpan samplingDuration) => TestBreakers.Options(time, "test", o =>
        {
            o.Rule = FailureRule.TimeWindow;
            o.SamplingDuration = samplingDuration;
        });
        var breaker = new CircuitBreaker(WindowOf(TimeSpan.FromSeconds(10)));
        TrackedTimer replaced = Assert.Single(time.Timers); // the window's (a closed circuit has no other)

        breaker.Reconfigure(WindowOf(TimeSpan.FromSeconds(20)));

        Assert.True(replaced.IsDisposed);
        Assert.Equal(2, time.Timers.Count); // the new window's
        Assert.False(time.Timers[1].IsDisposed);
    }
}
