using StackExchange.Redis;
using Tripswitch.Redis.Tests.Infrastructure;
using Tripswitch.Testing.Redis;
using Xunit;

namespace Tripswitch.Redis.Tests;

/// <summary>
/// A fleet state an instance's circuit refuses (the circuit decided something after the read was sent) is taken again
/// from a later read. Found by the gateway soak: an instance whose resync answers were all sent before its own local
/// half-open, and answered after the fleet had closed, kept its circuit half-open, answered by nothing, because every
/// later read of the same fleet state was skipped as already applied.
/// </summary>
public sealed class RefusedStateTests(SharedRedis redis)
{
    private static CircuitBreakerOptions Options => new()
    {
        FailureThreshold = 1,
        SuccessThreshold = 1,
        RecoveryTimeout = TimeSpan.FromSeconds(1),
        HalfOpenMaxCalls = 1,
    };

    [Fact]
    public async Task AFleetStateRefusedByALocalHalfOpen_IsAppliedFromTheNextRead()
    {
        await using Fleet fleet = await Fleet.StartAsync(redis.Server, redis.Admin, 2, Options, o => o.ResyncInterval = TimeSpan.FromMilliseconds(100));
        CircuitBreaker[] breakers = await fleet.JoinAsync("refused");
        (CircuitBreaker a, CircuitBreaker b) = (breakers[0], breakers[1]);

        // A learns of the fleet only by resyncing (no messages), and only when the test lets its reads through.
        await fleet[0].Connection.GetSubscriber().UnsubscribeAllAsync();
        await Eventually.True(async () => await fleet.Subscribers() == 1, "A no longer subscribed");
        Task<long> aOpened = Eventually.StateChange(a, CircuitState.Open);
        b.Fail();
        await aOpened.Within("A follows B's trip by resyncing");

        // Hold every read A sends from now on: they are all sent while A is open (based on its version then).
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        fleet[0].Scripts.Intercept = call => call.Script == "Get" ? HoldThen(gate.Task, call) : null;
        int heldFrom = fleet[0].Scripts.Completed("Get");

        // The fleet closes through B's probe while A's reads wait; then A's own open period ends: A goes half-open
        // locally (a newer decision than every read it has waiting).
        // (Reading State performs what time alone decides: an open period that ended.)
        await Eventually.True(() => b.State == CircuitState.HalfOpen, "B half-open");
        await Eventually.True(() => b.TrySucceed(), "B's probe ran (once the fleet's lease arrived)");
        Assert.Equal(CircuitState.Closed, b.State);
        await Eventually.True(async () => await fleet.Field("refused", "st") == 0, "the fleet closed");
        await Eventually.True(() => a.State == CircuitState.HalfOpen, "A half-open once its own open period ended");
        Assert.Equal(heldFrom, fleet[0].Scripts.Completed("Get")); // A has not heard of the close

        // The held reads now run: they answer "closed", based on a version A has moved past, so A refuses them; the
        // reads A sends afterwards carry the same fleet state, based on A's current version.
        Task<long> aClosed = Eventually.StateChange(a, CircuitState.Closed);
        fleet[0].Scripts.Intercept = null;
        gate.SetResult();

        await aClosed.Within("A follows the fleet's close from a later read");
        Assert.Equal(CircuitState.Closed, a.State);
    }

    private static async Task<RedisResult> HoldThen(Task gate, ScriptCall call)
    {
        await gate;
        return await call.Proceed();
    }
}
