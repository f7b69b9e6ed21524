using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Tripswitch.Tests.Health;

/// <summary>
/// A reconfiguration (a Hosting reload goes through <see cref="CircuitBreakerRegistry.Reconfigure"/>) that changes only
/// thresholds keeps the window's contents and applies the new thresholds to them; only a new window shape starts afresh.
/// </summary>
public class ReconfigureWindowTests
{
    private const string Key = "openai/gpt-4.1";

    public static TheoryData<FailureRule> WindowRules => [FailureRule.CountWindow, FailureRule.TimeWindow];

    [Theory]
    [MemberData(nameof(WindowRules))]
    public void Reconfigure_FailureRatioOnly_KeepsTheWindowAndAppliesTheNewRatio(FailureRule rule)
    {
        var time = new FakeTimeProvider();
        var registry = new CircuitBreakerRegistry(RegistryOptions(time, rule, failureRatio: 0.9, minimumThroughput: 10));
        CircuitBreaker breaker = registry.Get(Key);
        TestBreakers.Succeed(breaker, 5);
        TestBreakers.Fail(breaker, 4);

        registry.Reconfigure(RegistryOptions(time, rule, failureRatio: 0.5, minimumThroughput: 10));
        TestBreakers.Fail(breaker); // 5 failures of 10 calls: the new ratio is reached

        Assert.Equal(CircuitState.Open, breaker.State);
    }

    [Theory]
    [MemberData(nameof(WindowRules))]
    public void Reconfigure_MinimumThroughputOnly_KeepsTheWindowAndAppliesTheNewMinimum(FailureRule rule)
    {
        var time = new FakeTimeProvider();
        var registry = new CircuitBreakerRegistry(RegistryOptions(time, rule, failureRatio: 0.5, minimumThroughput: 20));
        CircuitBreaker breaker = registry.Get(Key);
        TestBreakers.Succeed(breaker, 5);
        TestBreakers.Fail(breaker, 4);

        registry.Reconfigure(RegistryOptions(time, rule, failureRatio: 0.5, minimumThroughput: 10));
        TestBreakers.Fail(breaker); // 10 calls now reach the minimum, and 5 of 10 failed

        Assert.Equal(CircuitState.Open, breaker.State);
    }

    [Theory]
    [MemberData(nameof(WindowRules))]
    public void Reconfigure_UnchangedThresholds_PositiveControl_StaysClosed(FailureRule rule)
    {
        var time = new FakeTimeProvider();
        var registry = new CircuitBreakerRegistry(RegistryOptions(time, rule, failureRatio: 0.9, minimumThroughput: 10));
        CircuitBreaker breaker = registry.Get(Key);
        TestBreakers.Succeed(breaker, 5);
        TestBreakers.Fail(breaker, 4);

        registry.Reconfigure(RegistryOptions(time, rule, failureRatio: 0.9, minimumThroughput: 10));
        TestBreakers.Fail(breaker); // 5 of 10 is below 0.9

        Assert.Equal(CircuitState.Closed, breaker.State); // so the tests above open because of the new thresholds
    }

    [Fact]
    public void Reconfigure_SlowCallRatioOnly_KeepsTheSlowCallsAlreadyCounted()
    {
        var time = new FakeTimeProvider();
        CircuitBreakerRegistryOptions Options(double slowRatio) => RegistryOptions(time, FailureRule.CountWindow, failureRatio: 1, minimumThroughput: 4, configure: o =>
        {
            o.SlowCallThreshold = TimeSpan.FromSeconds(1);
            o.SlowCallRatio = slowRatio;
        });
        var registry = new CircuitBreakerRegistry(Options(0.9));
        CircuitBreaker breaker = registry.Get(Key);
        TestBreakers.Succeed(breaker, 2);
        SlowSuccess(breaker, time);

        registry.Reconfigure(Options(0.5));
        SlowSuccess(breaker, time); // 2 slow of 4 calls reach the new slow-call ratio

        Assert.Equal(CircuitState.Open, breaker.State);
    }

    [Theory]
    [InlineData(nameof(CircuitBreakerOptions.WindowSize))]
    [InlineData(nameof(CircuitBreakerOptions.Rule))]
    public void Reconfigure_WindowShapeChanges_StartsANewWindow(string change)
    {
        var time = new FakeTimeProvider();
        var registry = new CircuitBreakerRegistry(RegistryOptions(time, FailureRule.CountWindow, failureRatio: 0.5, minimumThroughput: 10));
        CircuitBreaker breaker = registry.Get(Key);
        TestBreakers.Succeed(breaker, 5);
        TestBreakers.Fail(breaker, 4);

        registry.Reconfigure(RegistryOptions(time, change == "Rule" ? FailureRule.TimeWindow : FailureRule.CountWindow, failureRatio: 0.5, minimumThroughput: 10, configure: o =>
        {
            if (change == nameof(CircuitBreakerOptions.WindowSize))
            {
                o.WindowSize = 50;
            }
        }));
        TestBreakers.Fail(breaker); // a new window holds 1 call: below the minimum

        Assert.Equal(CircuitState.Closed, breaker.State);
        TestBreakers.Fail(breaker, 9);
        Assert.Equal(CircuitState.Open, breaker.State);
    }

    [Fact]
    public void Reconfigure_SamplingDurationChanges_StartsANewWindow()
    {
        var time = new FakeTimeProvider();
        var registry = new CircuitBreakerRegistry(RegistryOptions(time, FailureRule.TimeWindow, failureRatio: 0.5, minimumThroughput: 10));
        CircuitBreaker breaker = registry.Get(Key);
        TestBreakers.Succeed(breaker, 5);
        TestBreakers.Fail(breaker, 4);

        registry.Reconfigure(RegistryOptions(time, FailureRule.TimeWindow, failureRatio: 0.5, minimumThroughput: 10, configure: o => o.SamplingDuration = TimeSpan.FromMinutes(1)));
        TestBreakers.Fail(breaker);

        Assert.Equal(CircuitState.Closed, breaker.State);
    }

    [Fact]
    public void Reconfigure_TimeWindowKept_StillRollsOverOnItsClock()
    {
        var time = new FakeTimeProvider();
        var registry = new CircuitBreakerRegistry(RegistryOptions(time, FailureRule.TimeWindow, failureRatio: 0.9, minimumThroughput: 10));
        CircuitBreaker breaker = registry.Get(Key);
        TestBreakers.Succeed(breaker, 5);
        TestBreakers.Fail(breaker, 4);

        registry.Reconfigure(RegistryOptions(time, FailureRule.TimeWindow, failureRatio: 0.5, minimumThroughput: 10));
        time.Advance(TimeSpan.FromSeconds(31)); // the default 30 s window has rolled past those calls
        TestBreakers.Fail(breaker);

        Assert.Equal(CircuitState.Closed, breaker.State);
    }

    private static void SlowSuccess(CircuitBreaker breaker, FakeTimeProvider time)
    {
        CircuitPermit permit = breaker.AcquirePermit();
        time.Advance(TimeSpan.FromSeconds(2));
        permit.RecordSuccess();
    }

    private static CircuitBreakerRegistryOptions RegistryOptions(
        FakeTimeProvider time, FailureRule rule, double failureRatio, int minimumThroughput, Action<CircuitBreakerOptions>? configure = null)
    {
        var defaults = new CircuitBreakerOptions
        {
            TimeProvider = time,
            Rule = rule,
            FailureRatio = failureRatio,
            MinimumThroughput = minimumThroughput,
            WindowSize = 20,
        };
        configure?.Invoke(defaults);
        return new CircuitBreakerRegistryOptions { Defaults = defaults };
    }
}
