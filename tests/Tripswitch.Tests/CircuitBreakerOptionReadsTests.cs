using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Tripswitch.Tests;

/// <summary>
/// The option values integrations read on every call (<see cref="CircuitBreaker.TimeProvider"/>,
/// <see cref="CircuitBreaker.FallbackOnFailure"/>) are read from the options the circuit runs with now, without a copy.
/// </summary>
public class CircuitBreakerOptionReadsTests
{
    [Fact]
    public void TimeProvider_IsTheOptionsClock()
    {
        var time = new FakeTimeProvider();

        Assert.Same(time, TestBreakers.Create(time).TimeProvider);
        Assert.Same(time, TestBreakers.Registry(time).Get("a").TimeProvider);
        Assert.Same(TimeProvider.System, new CircuitBreaker().TimeProvider);
    }

    [Fact]
    public void TimeProvider_AfterRegistryReconfigure_IsStillTheCircuitsClock()
    {
        FakeTimeProvider time = TestBreakers.Clock();
        CircuitBreakerRegistry registry = TestBreakers.Registry(time);
        CircuitBreaker breaker = registry.Get("a");

        registry.Reconfigure(new CircuitBreakerRegistryOptions { Defaults = TestBreakers.Options(time, configure: o => o.FailureThreshold = 1) });
        Assert.Throws<ArgumentException>(() => registry.Reconfigure(new CircuitBreakerRegistryOptions { Defaults = new CircuitBreakerOptions() }));

        Assert.Same(time, breaker.TimeProvider);
        Assert.Equal(1, breaker.Options.FailureThreshold); // the first reconfiguration did apply
    }

    [Fact]
    public void FallbackOnFailure_FollowsTheOptionsAndARegistryReconfigure()
    {
        FakeTimeProvider time = TestBreakers.Clock();
        CircuitBreakerRegistry registry = TestBreakers.Registry(time);
        CircuitBreaker breaker = registry.Get("a");
        Assert.False(breaker.FallbackOnFailure);
        Assert.True(TestBreakers.Create(time, o => o.FallbackOnFailure = true).FallbackOnFailure);

        registry.Reconfigure(new CircuitBreakerRegistryOptions { Defaults = TestBreakers.Options(time, configure: o => o.FallbackOnFailure = true) });

        Assert.True(breaker.FallbackOnFailure);
        Assert.Equal("fallback", breaker.Execute<string>(() => throw new InvalidOperationException("down"), _ => "fallback"));
    }
}
