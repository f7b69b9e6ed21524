using Xunit;

namespace Tripswitch.Tests;

/// <summary>
/// A registry's circuits share one validated options object per configuration (the defaults, or a key's override)
/// instead of a copy per circuit: each circuit still has its own name everywhere, and what callers read is a copy.
/// </summary>
public class CircuitBreakerRegistrySharedOptionsTests
{
    [Fact]
    public void Options_OfTwoCircuitsWithTheDefaults_AreSeparateCopiesNamedAfterTheirKeys()
    {
        var registry = TestBreakers.Registry(TestBreakers.Clock(), o => o.FailureThreshold = 7);

        CircuitBreakerOptions a = registry.Get("a").Options;
        CircuitBreakerOptions b = registry.Get("b").Options;
        a.FailureThreshold = 99; // a copy: changes nothing
        a.Name = "renamed";

        Assert.NotSame(a, b);
        Assert.Equal(("b", 7), (b.Name, b.FailureThreshold));
        Assert.Equal(("a", 7), (registry.Get("a").Options.Name, registry.Get("a").Options.FailureThreshold));
        Assert.Equal("a", registry.Get("a").Name);
    }

    [Fact]
    public void Options_OfAnOverriddenKey_AreItsOverrideNamedAfterTheKey_AndOtherKeysKeepTheDefaults()
    {
        var time = TestBreakers.Clock();
        var registry = new CircuitBreakerRegistry(new CircuitBreakerRegistryOptions { Defaults = TestBreakers.Options(time, "d") }
            .Configure("slow", o => o.FailureThreshold = 2));

        Assert.Equal(("slow", 2), (registry.Get("slow").Options.Name, registry.Get("slow").Options.FailureThreshold));
        Assert.Equal(("fast", CircuitBreakerDefaults.FailureThreshold), (registry.Get("fast").Options.Name, registry.Get("fast").Options.FailureThreshold));
    }

    [Fact]
    public void CircuitName_OfTransitionsRejectionsSummariesAndTheGenerator_IsTheKeyNotTheDefaultsName()
    {
        var names = new List<string>();
        var registry = TestBreakers.Registry(TestBreakers.Clock(), o =>
        {
            o.Name = "defaults-name";
            o.FailureThreshold = 1;
            o.BreakDurationGenerator = args =>
            {
                names.Add(args.CircuitName);
                return args.ComputedDuration;
            };
        });
        var transitions = new List<string>();
        registry.StateChanged += (_, t) => transitions.Add(t.CircuitName);
        CircuitBreaker breaker = registry.Get("tenant-1/endpoint");

        TestBreakers.Fail(breaker);
        Assert.False(breaker.TryAcquirePermit(out _, out CircuitRejection rejection));

        Assert.Equal(["tenant-1/endpoint"], names);
        Assert.Equal(["tenant-1/endpoint"], transitions);
        Assert.Equal("tenant-1/endpoint", rejection.CircuitName);
        Assert.Equal("tenant-1/endpoint", breaker.GetSummary().Name);
    }

    [Fact]
    public void Reconfigure_CircuitsSharingTheDefaults_EachGetsTheNewValuesAndKeepsItsName()
    {
        var time = TestBreakers.Clock();
        var registry = TestBreakers.Registry(time, o => o.FailureThreshold = 3);
        CircuitBreaker a = registry.Get("a");
        CircuitBreaker b = registry.Get("b");

        registry.Reconfigure(new CircuitBreakerRegistryOptions { Defaults = TestBreakers.Options(time, "new-defaults", o => o.FailureThreshold = 1) });
        TestBreakers.Fail(a);

        Assert.Equal(CircuitState.Open, a.State);
        Assert.Equal(CircuitState.Closed, b.State);
        Assert.Equal(("a", 1), (a.Options.Name, a.Options.FailureThreshold));
        Assert.Equal(("b", 1), (b.Options.Name, b.Options.FailureThreshold));
    }
}
