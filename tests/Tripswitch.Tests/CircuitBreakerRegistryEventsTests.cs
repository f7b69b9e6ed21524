using Xunit;

namespace Tripswitch.Tests;

/// <summary>
/// The registry's <see cref="CircuitBreakerRegistry.StateChanged"/> and <see cref="CircuitBreakerRegistry.Rejected"/>:
/// raised for the breakers it holds (which call it directly), before the breaker's own handlers, and no longer for a
/// breaker it evicted.
/// </summary>
public class CircuitBreakerRegistryEventsTests
{
    [Fact]
    public void Rejected_ABreakerOfTheRegistryRejects_RaisedWithTheBreakerAsSenderBeforeTheBreakersOwnHandlers()
    {
        var registry = TestBreakers.Registry(TestBreakers.Clock(), o => o.FailureThreshold = 1);
        CircuitBreaker breaker = registry.Get("a");
        var order = new List<string>();
        registry.Rejected += (sender, rejection) =>
        {
            Assert.Same(breaker, sender);
            Assert.Equal("a", rejection.CircuitName);
            order.Add("registry");
        };
        breaker.Rejected += (_, _) => order.Add("breaker");

        TestBreakers.Fail(breaker);
        Assert.False(breaker.TryAcquirePermit(out _, out CircuitRejection rejection));

        Assert.Equal(CircuitState.Open, rejection.State);
        Assert.Equal(["registry", "breaker"], order);
    }

    [Fact]
    public void StateChanged_ABreakerOfTheRegistryTrips_RaisedBeforeTheBreakersOwnHandlers()
    {
        var registry = TestBreakers.Registry(TestBreakers.Clock(), o => o.FailureThreshold = 1);
        CircuitBreaker breaker = registry.Get("a");
        var order = new List<string>();
        registry.StateChanged += (_, t) => order.Add($"registry {t.To}");
        breaker.StateChanged += (_, t) => order.Add($"breaker {t.To}");

        TestBreakers.Fail(breaker);

        Assert.Equal(["registry Open", "breaker Open"], order);
    }

    [Fact]
    public void Events_OfAnEvictedBreaker_NoLongerReachTheRegistryButStillItsOwnHandlers()
    {
        var registry = new CircuitBreakerRegistry(new CircuitBreakerRegistryOptions
        {
            Defaults = TestBreakers.Options(TestBreakers.Clock(), configure: o => o.FailureThreshold = 1),
            Capacity = 16,
        });
        CircuitBreaker old = registry.Get("old");
        int registryEvents = 0, breakerEvents = 0;
        registry.StateChanged += (_, _) => registryEvents++;
        registry.Rejected += (_, _) => registryEvents++;
        old.StateChanged += (_, _) => breakerEvents++;
        old.Rejected += (_, _) => breakerEvents++;
        for (int i = 0; i < 100; i++)
        {
            registry.Get($"key-{i}");
        }

        Assert.False(registry.TryGet("old", out _));
        TestBreakers.Fail(old); // trips: one transition
        Assert.False(old.TryAcquirePermit(out _, out TimeSpan _)); // one rejection

        Assert.Equal(0, registryEvents);
        Assert.Equal(2, breakerEvents);
    }
}
