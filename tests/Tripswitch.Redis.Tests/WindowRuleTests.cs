using Tripswitch.Redis.Tests.Infrastructure;
using Tripswitch.Testing.Redis;
using Xunit;

namespace Tripswitch.Redis.Tests;

/// <summary>Sharing never changes which rule a circuit runs: a window-rule circuit is not opened by the fleet's consecutive count.</summary>
public sealed class WindowRuleTests(SharedRedis redis)
{
    [Theory]
    [InlineData(FailureRule.CountWindow)]
    [InlineData(FailureRule.TimeWindow)]
    public async Task AWindowCircuit_WithSharing_DoesNotOpenOnFailureThreshold(FailureRule rule)
    {
        var options = new CircuitBreakerOptions
        {
            Rule = rule,
            WindowSize = 20,
            SamplingDuration = TimeSpan.FromSeconds(30),
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

        // The window's own rule still trips it, judged on the fleet's calls: 20 calls of which 11 failed.
        Task<long> bOpened = Eventually.StateChange(breakers[1], CircuitState.Open);
        FleetWindowTests.Mix(breakers[0], successes: 8, failures: 2);
        await fleet.Holds("window", 19);
        Assert.Equal(0, await fleet.Field("window", "st"));
        breakers[0].Fail(1);

        await bOpened.Within("the fleet's window trip reaches B");
        Assert.Equal(1, await fleet.Field("window", "st"));
        Assert.Equal(CircuitState.Open, breakers[0].Rejection()!.State);
    }
}
