using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Tripswitch.Hosting.Tests.DependencyInjection;

/// <summary>
/// One registry per container: a <see cref="CircuitBreakerRegistry"/> registered next to AddTripswitch (the README's old
/// dashboard example) would leave the handlers or the dashboard on a registry that ignores appsettings, the logs and the
/// health check; start-up fails instead, and says what to do, in either order.
/// </summary>
public class OneRegistryTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task AnInstanceRegisteredNextToAddTripswitch_FailsStartUp_NamingTheFix(bool userFirst)
    {
        HostApplicationBuilder builder = TestHost.CreateBuilder();
        if (userFirst)
        {
            builder.Services.AddSingleton(new CircuitBreakerRegistry());
        }

        builder.Services.AddTripswitch(o => o.Defaults.FailureThreshold = 3);
        if (!userFirst)
        {
            builder.Services.AddSingleton(new CircuitBreakerRegistry());
        }

        Exception error = await TestHost.StartFailsAsync(builder);

        InvalidOperationException invalid = Assert.IsType<InvalidOperationException>(error);
        Assert.Contains("2 CircuitBreakerRegistry registrations", invalid.Message, StringComparison.Ordinal);
        Assert.Contains("remove the other registration", invalid.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AFactoryRegisteredNextToAddTripswitch_FailsStartUp()
    {
        HostApplicationBuilder builder = TestHost.CreateBuilder();
        builder.Services.AddTripswitch();
        builder.Services.AddSingleton(_ => new CircuitBreakerRegistry());

        Exception error = await TestHost.StartFailsAsync(builder);

        Assert.Contains("CircuitBreakerRegistry registrations", Assert.IsType<InvalidOperationException>(error).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task TheHttpHandlersDefaultRegistry_GivesWayToAddTripswitch_InEitherOrder(bool handlerFirst)
    {
        HostApplicationBuilder builder = TestHost.CreateBuilder();
        if (handlerFirst)
        {
            builder.Services.AddHttpClient("a").AddCircuitBreakerHandler();
        }

        builder.Services.AddTripswitch(o => o.Defaults.FailureThreshold = 3);
        if (!handlerFirst)
        {
            builder.Services.AddHttpClient("a").AddCircuitBreakerHandler();
        }

        await using TestHost host = await TestHost.StartAsync(builder);

        CircuitBreakerRegistry registry = Assert.Single(host.Services.GetServices<CircuitBreakerRegistry>());
        Assert.Equal(3, Calls.FailuresToOpen(registry.Get("x"))); // AddTripswitch's options: the configured registry
    }
}
