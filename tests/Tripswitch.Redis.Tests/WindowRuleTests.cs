using Tripswitch.Redis.Tests.Infrastructure;
using Tripswitch.Testing.Redis;
using Xunit;

namespace Tripswitch.Redis.Tests;

/// <summary>Sharing never changes which rule a circuit runs: a window-rule circuit is not opened by the fleet's consecutive count.</summary>
public sealed class WindowRuleTests(SharedRedis redis)
{
    [Fact]
    public async Task ACountWindowCircuit_WithSharing_DoesNotOpenOnFailureThreshold()
    {
        var options = new CircuitBreakerOptions
        {
            Rule = FailureRule.CountWindow,
            WindowSize = 20,
            MinimumThroughput = 20,
            FailureRatio = 0.5,
            FailureThreshold = 5, // the consecutive rule's threshold: not this circuit's rule
            RecoveryTimeout = TimeSpan.FromSeconds(30),
        };
        await using Fleet fleet = await Fleet.StartAsync(redis.Server, redis.Admin, 2, options);
        CircuitBreaker[] breakers = await fleet.JoinAsync("window");

        // 8 straight failures: below the window's MinimumThroughput, so the circuit stays closed without sharing — and with it.
        breakers[0].Fail(8);
        await Eventually.True(async () => await fleet.Field("window", "cf") == 8, "the 8 failures reported");
        Assert.Equal(0, await fleet.Field("window", "st"));
        Assert.All(breakers, breaker => Assert.Equal(CircuitState.Closed, breaker.State));
        Assert.True(breakers[1].TrySucceed());

        // The window's own rule still trips it (the 20th call: 12 of 20 failed), and the local trip opens the whole fleet.
        Task<long> bOpened = Eventually.StateChange(breakers[1], CircuitState.Open);
        for (int i = 0; i < 8; i++)
        {
            Assert.True(breakers[0].TrySucceed());
        }

        breakers[0].Fail(3);
        Assert.Equal(CircuitState.Closed, breakers[0].State);
        breakers[0].Fail(1);
        Assert.Equal(CircuitState.Open, breakers[0].State);

        await bOpened.Within("the window's trip reaches B");
        Assert.Equal(1, await fleet.Field("window", "st"));
    }
}
