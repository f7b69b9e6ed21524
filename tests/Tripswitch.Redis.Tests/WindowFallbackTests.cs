using StackExchange.Redis;
using Tripswitch.Redis.Tests.Infrastructure;
using Tripswitch.Testing.Redis;
using Xunit;

namespace Tripswitch.Redis.Tests;

/// <summary>
/// While Redis is unreachable, a window-rule circuit falls back to its own window, which kept counting while the fleet
/// judged: the instance can trip on its own calls at once.
/// </summary>
[Collection(nameof(RedisOutage))]
public sealed class WindowFallbackTests
{
    [Theory]
    [InlineData(FailureRule.CountWindow)]
    [InlineData(FailureRule.TimeWindow)]
    public async Task KillingRedis_FallsBackToTheLocalWindow_ThatKeptCounting(FailureRule rule)
    {
        await using RedisServer server = await RedisServer.StartNewAsync();
        var defaults = new CircuitBreakerOptions
        {
            Rule = rule,
            WindowSize = 100,
            SamplingDuration = TimeSpan.FromMinutes(1),
            MinimumThroughput = 10,
            FailureRatio = 0.5,
            RecoveryTimeout = TimeSpan.FromSeconds(60),
        };
        await using ConnectionMultiplexer admin = await ConnectionMultiplexer.ConnectAsync(server.Configuration + ",abortConnect=false");
        await using Fleet fleet = await Fleet.StartAsync(server, admin.GetDatabase(), 2, defaults);
        CircuitBreaker[] breakers = await fleet.JoinAsync("fallback");

        // While shared, the fleet judges: 12 of A's 12 calls failed, but only 12 of the fleet's 52.
        FleetWindowTests.Mix(breakers[1], successes: 40, failures: 0);
        await fleet.Holds("fallback", 40);
        breakers[0].Fail(12);
        await fleet.Holds("fallback", 52);
        Assert.All(breakers, breaker => Assert.Equal(CircuitState.Closed, breaker.State));

        await server.KillAsync();
        await Eventually.True(() => fleet[0].Sharing.IsDegraded, "A runs on its local rules");

        // A's own window kept counting (12 of 12 failed): the next failure trips A at once. B, which can't hear of it, stays closed.
        Assert.True(breakers[0].Fail());
        Assert.Equal(CircuitState.Open, breakers[0].Rejection()!.State);
        Assert.Equal(CircuitState.Closed, breakers[1].State);
    }
}
