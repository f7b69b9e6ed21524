using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;

namespace Tripswitch.Dashboard.Tests;

public class OptionsTests
{
    [Fact]
    public void Ctor_Defaults()
    {
        var options = new TripswitchDashboardOptions();

        Assert.Null(options.Registry);
        Assert.Null(options.TimeProvider);
        Assert.Equal(TimeSpan.FromSeconds(1), options.SnapshotInterval);
        Assert.Equal(256, options.TransitionBufferCapacity);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(99)]
    [InlineData(300_001)]
    public async Task Map_SnapshotIntervalOutOfRange_ThrowsNamingOptionAndRange(int milliseconds)
    {
        await using WebApplication app = WebApplication.CreateBuilder().Build();

        ArgumentOutOfRangeException error = Assert.Throws<ArgumentOutOfRangeException>(() => app.MapTripswitchDashboard(
            "/tripswitch",
            o => { o.Registry = new CircuitBreakerRegistry(); o.SnapshotInterval = TimeSpan.FromMilliseconds(milliseconds); }));

        Assert.Equal("SnapshotInterval", error.ParamName);
        Assert.Contains("TripswitchDashboardOptions.SnapshotInterval must be between 00:00:00.1000000 and 00:05:00", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(65_537)]
    public async Task Map_TransitionBufferCapacityOutOfRange_ThrowsNamingOptionAndRange(int capacity)
    {
        await using WebApplication app = WebApplication.CreateBuilder().Build();

        ArgumentOutOfRangeException error = Assert.Throws<ArgumentOutOfRangeException>(() => app.MapTripswitchDashboard(
            "/tripswitch",
            o => { o.Registry = new CircuitBreakerRegistry(); o.TransitionBufferCapacity = capacity; }));

        Assert.Equal("TransitionBufferCapacity", error.ParamName);
        Assert.Contains("must be between 1 and 65536", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Map_BoundaryValues_AreAccepted()
    {
        await using WebApplication app = WebApplication.CreateBuilder().Build();

        app.MapTripswitchDashboard("/a", o => { o.Registry = new CircuitBreakerRegistry(); o.SnapshotInterval = TimeSpan.FromMilliseconds(100); o.TransitionBufferCapacity = 1; });
        app.MapTripswitchDashboard("/b", o => { o.Registry = new CircuitBreakerRegistry(); o.SnapshotInterval = TimeSpan.FromMinutes(5); o.TransitionBufferCapacity = 65_536; });

        string[] routes = [.. ((IEndpointRouteBuilder)app).DataSources.SelectMany(d => d.Endpoints).OfType<RouteEndpoint>().Select(e => e.RoutePattern.RawText!).Order(StringComparer.Ordinal)];
        Assert.Equal(["/a/", "/a/events", "/a/status", "/b/", "/b/events", "/b/status"], routes);
    }
}
