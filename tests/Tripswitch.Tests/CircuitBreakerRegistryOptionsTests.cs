using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Tripswitch.Tests;

public class CircuitBreakerRegistryOptionsTests
{
    [Fact]
    public void Ctor_Defaults()
    {
        var options = new CircuitBreakerRegistryOptions();

        Assert.Equal(10_000, options.Capacity);
        Assert.NotNull(options.Defaults);
        Assert.Equal(5, options.Defaults.FailureThreshold);
        Assert.Equal("default", options.Defaults.Name);
        Assert.Empty(options.Overrides);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(10_000_001)]
    [InlineData(int.MinValue)]
    public void Registry_CapacityOutOfRange_ThrowsNamingTheOption(int capacity)
    {
        var options = new CircuitBreakerRegistryOptions { Capacity = capacity };

        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new CircuitBreakerRegistry(options));

        Assert.Equal("Capacity", ex.ParamName);
        Assert.StartsWith($"CircuitBreakerRegistryOptions.Capacity must be between 1 and 10000000; it was {capacity}.", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Registry_CapacityBoundaries_AreAccepted()
    {
        var time = new FakeTimeProvider();
        var smallest = new CircuitBreakerRegistry(new CircuitBreakerRegistryOptions { Capacity = 1, Defaults = new CircuitBreakerOptions { TimeProvider = time } });
        var largest = new CircuitBreakerRegistry(new CircuitBreakerRegistryOptions { Capacity = 10_000_000, Defaults = new CircuitBreakerOptions { TimeProvider = time } });

        Assert.Equal("a", smallest.Get("a").Name);
        for (int i = 0; i < 100; i++)
        {
            largest.Get($"k{i}");
        }

        Assert.Equal(100, largest.Count); // far below its capacity: nothing evicted
    }

    [Fact]
    public void Registry_NullDefaults_ThrowsArgumentNullException()
    {
        var options = new CircuitBreakerRegistryOptions { Defaults = null! };

        Assert.Throws<ArgumentNullException>(() => new CircuitBreakerRegistry(options));
    }

    [Fact]
    public void Registry_NullOptions_ThrowsArgumentNullException()
    {
        Assert.Throws<ArgumentNullException>(() => new CircuitBreakerRegistry((CircuitBreakerRegistryOptions)null!));
    }

    [Fact]
    public void Configure_ReturnsTheSameOptionsForChainingAndRecordsTheKey()
    {
        var options = new CircuitBreakerRegistryOptions();

        CircuitBreakerRegistryOptions returned = options.Configure("a", _ => { }).Configure("b", _ => { });

        Assert.Same(options, returned);
        Assert.Equal(["a", "b"], options.Overrides.Keys.Order());
    }

    [Fact]
    public void Configure_InvalidArguments_Throw()
    {
        var options = new CircuitBreakerRegistryOptions();

        Assert.Throws<ArgumentNullException>(() => options.Configure(null!, _ => { }));
        Assert.Throws<ArgumentException>(() => options.Configure(string.Empty, _ => { }));
        Assert.Throws<ArgumentException>(() => options.Configure(" ", _ => { }));
        Assert.Throws<ArgumentNullException>(() => options.Configure("k", null!));
        Assert.Empty(options.Overrides);
    }

    [Fact]
    public void Configure_RunsOnACopyOfTheDefaults_DefaultsUnchanged()
    {
        var time = new FakeTimeProvider();
        var options = new CircuitBreakerRegistryOptions { Defaults = new CircuitBreakerOptions { FailureThreshold = 4, TimeProvider = time } }
            .Configure("special", o => o.FailureThreshold = 1);
        var registry = new CircuitBreakerRegistry(options);

        TestBreakers.Fail(registry.Get("special"));
        TestBreakers.Fail(registry.Get("plain"));

        Assert.Equal(4, options.Defaults.FailureThreshold);
        Assert.Equal(CircuitState.Open, registry.Get("special").State);
        Assert.Equal(CircuitState.Closed, registry.Get("plain").State);
    }
}
