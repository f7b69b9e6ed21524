using StackExchange.Redis;
using Tripswitch.Redis.Tests.Infrastructure;
using Tripswitch.Testing.Redis;
using Xunit;

namespace Tripswitch.Redis.Tests;

/// <summary>
/// One instance's store fails (simulated on its connection only, so the order of events is under control) while the
/// rest of the fleet goes on; then the store answers again.
/// </summary>
public sealed class RecoveryTests(SharedRedis redis)
{
    private static readonly CircuitBreakerOptions Options = new()
    {
        FailureThreshold = 3,
        RecoveryTimeout = TimeSpan.FromSeconds(30),
        SuccessThreshold = 1,
    };

    [Fact]
    public async Task ACircuitTrippedWhileTheStoreWasDown_StaysOpenThroughTheRecovery_AndOpensTheFleet()
    {
        await using Fleet fleet = await Fleet.StartAsync(redis.Server, redis.Admin, 2, Options, o => o.ResyncInterval = TimeSpan.FromMilliseconds(100));
        CircuitBreaker[] breakers = await fleet.JoinAsync("outage");
        (CircuitBreaker a, CircuitBreaker b) = (breakers[0], breakers[1]);
        ScriptMonitor scripts = fleet[0].Scripts;

        // A's store fails: A degrades.
        scripts.Intercept = static _ => Task.FromException<RedisResult>(new RedisConnectionException(ConnectionFailureType.SocketFailure, CommandFlags.None, "simulated outage", null, CommandStatus.Unknown));
        await Eventually.True(() => fleet[0].Sharing.IsDegraded, "A degraded");

        // Meanwhile the fleet's state is lost and recreated (Redis restarted empty): a new epoch.
        await fleet.Admin.KeyDeleteAsync(fleet.HashKey("outage"));
        await Eventually.True(async () => await fleet.Admin.KeyExistsAsync(fleet.HashKey("outage")), "B recreated the circuit");

        // A trips on its local rules.
        a.Fail(3);
        Assert.Equal(CircuitState.Open, a.State);

        // The store answers again, but A's outcome reports are slow: only A's own word on its trip can open the fleet.
        var reportsMayGo = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<long> bOpened = Eventually.StateChange(b, CircuitState.Open);
        scripts.Intercept = call => call.Script == "Report" ? HoldThen(reportsMayGo.Task, call) : null;
        await bOpened.Within("A's trip reaches B after the recovery");
        reportsMayGo.SetResult();

        Assert.False(fleet[0].Sharing.IsDegraded);
        Assert.DoesNotContain(a.GetSummary().Transitions, t => t.To == CircuitState.Closed); // A never let calls through meanwhile
        Assert.Equal(CircuitState.Open, a.Rejection()!.State);
        Assert.Equal(1, await fleet.Field("outage", "st"));
    }

    private static async Task<RedisResult> HoldThen(Task gate, ScriptCall call)
    {
        await gate;
        return await call.Proceed();
    }
}
