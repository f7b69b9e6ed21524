using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Tripswitch.Redis.Tests.Infrastructure;
using Tripswitch.Testing.Redis;
using Xunit;

namespace Tripswitch.Redis.Tests;

/// <summary>AddTripswitch(...).UseRedis(...): two hosts share their registry's circuits through Redis.</summary>
public sealed class HostingTests(SharedRedis redis) : IClassFixture<SharedRedis>
{
    [Fact]
    public async Task UseRedis_TwoHosts_ShareACircuitThroughTheirRegistries()
    {
        string prefix = Fleet.UniquePrefix();
        using IHost a = await StartHostAsync(prefix);
        using IHost b = await StartHostAsync(prefix);
        CircuitBreaker onA = a.Services.GetRequiredService<CircuitBreakerRegistry>().Get("openai/gpt-4.1");
        CircuitBreaker onB = b.Services.GetRequiredService<CircuitBreakerRegistry>().Get("openai/gpt-4.1");
        Task<long> bOpens = Eventually.StateChange(onB, CircuitState.Open);

        onA.Fail(2); // the host's threshold: A trips, and the trip reaches B through Redis

        await bOpens.Within("host B's circuit opened");
        Assert.Equal(CircuitState.Open, onA.State);
        Assert.NotNull(onB.Rejection());
        Assert.Equal(1, await redis.Admin.KeyExistsAsync(Fleet.LayoutHash(prefix, "openai/gpt-4.1")) ? 1 : 0);

        await a.StopAsync(TestContext.Current.CancellationToken);
        await b.StopAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public void UseRedis_InvalidOption_FailsWhereItIsWritten()
    {
        var services = new ServiceCollection();

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => services.AddTripswitch().UseRedis("127.0.0.1:1", o => o.ReportInterval = TimeSpan.Zero));

        Assert.Contains("RedisCircuitOptions.ReportInterval", error.Message, StringComparison.Ordinal);
    }

    private async Task<IHost> StartHostAsync(string prefix)
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder();
        builder.Services.AddTripswitch(o =>
        {
            o.Defaults.FailureThreshold = 2;
            o.Defaults.RecoveryTimeout = TimeSpan.FromMinutes(1);
        }).UseRedis(redis.Server.Configuration, o => o.KeyPrefix = prefix);
        IHost host = builder.Build();
        await host.StartAsync(TestContext.Current.CancellationToken);
        return host;
    }
}
