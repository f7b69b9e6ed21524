using StackExchange.Redis;
using Tripswitch.Redis.Tests.Infrastructure;
using Tripswitch.Testing.Redis;
using Xunit;

namespace Tripswitch.Redis.Tests;

/// <summary>Instances configured with the same Redis and circuit name share one circuit, and hear of its changes at once.</summary>
public sealed class SharedCircuitTests(SharedRedis redis)
{
    /// <summary>
    /// Longer than any wait of these tests (<see cref="Eventually.Timeout"/>): an instance that follows a trip within the
    /// wait heard of it through the published message, not the periodic resync. How fast that is, is the benchmarks'
    /// business; a timed assertion would fail on a loaded machine.
    /// </summary>
    private static readonly TimeSpan NoResync = TimeSpan.FromMinutes(10);

    private static CircuitBreakerOptions Threshold3 => new()
    {
        FailureThreshold = 3,
        RecoveryTimeout = TimeSpan.FromSeconds(30),
        SuccessThreshold = 1,
    };

    [Fact]
    public async Task FailuresObservedBySeveralInstances_TogetherTripTheCircuit_AndEveryInstanceRejects()
    {
        await using Fleet fleet = await Fleet.StartAsync(redis.Server, redis.Admin, 3, Threshold3, o => o.ResyncInterval = NoResync);
        CircuitBreaker[] breakers = await fleet.JoinAsync("payments");
        (CircuitBreaker a, CircuitBreaker b, CircuitBreaker c) = (breakers[0], breakers[1], breakers[2]);

        a.Fail(2);
        await Eventually.True(async () => await fleet.Field("payments", "cf") == 2, "A's two failures reported");
        Assert.Equal(0, await fleet.Field("payments", "st"));
        Assert.All(breakers, breaker => Assert.Equal(CircuitState.Closed, breaker.State)); // two failures are below the threshold of 3

        Task<long>[] opened = [.. breakers.Select(breaker => Eventually.StateChange(breaker, CircuitState.Open))];
        int[] gets = [.. fleet.Nodes.Select(node => node.Scripts.Completed("Get"))];
        Assert.True(b.Fail()); // B alone has seen one failure: only the fleet's count trips the circuit
        await Task.WhenAll(opened.Select(task => task.Within("every instance Open")));

        // The trip happens when B's batch reaches Redis; every instance follows on the published message (no resync ran).
        Assert.Equal(gets, fleet.Nodes.Select(node => node.Scripts.Completed("Get")));
        Assert.Equal(1, await fleet.Field("payments", "st"));
        foreach (CircuitBreaker breaker in breakers)
        {
            CircuitOpenException? rejected = breaker.Rejection();
            Assert.NotNull(rejected);
            Assert.Equal(CircuitState.Open, rejected.State);
            Assert.InRange(rejected.RetryAfter, TimeSpan.FromSeconds(25), TimeSpan.FromSeconds(30));
        }
    }

    [Fact]
    public async Task ALocalTrip_IsRejectedByEveryOtherInstance_OnThePublishedMessage()
    {
        await using Fleet fleet = await Fleet.StartAsync(redis.Server, redis.Admin, 4, Threshold3, o => o.ResyncInterval = NoResync);
        CircuitBreaker[] breakers = await fleet.JoinAsync("search");

        for (int round = 0; round < 3; round++)
        {
            CircuitBreaker tripper = breakers[round];
            Task<long>[] opened = [.. breakers.Select(breaker => Eventually.StateChange(breaker, CircuitState.Open))];
            int[] gets = [.. fleet.Nodes.Select(node => node.Scripts.Completed("Get"))];
            tripper.Fail(3);
            await Task.WhenAll(opened.Select(task => task.Within($"round {round}: every instance Open")));
            Assert.Equal(gets, fleet.Nodes.Select(node => node.Scripts.Completed("Get"))); // told by the message, not a resync
            for (int i = 0; i < breakers.Length; i++)
            {
                CircuitOpenException? rejected = breakers[i].Rejection();
                Assert.NotNull(rejected);
                Assert.InRange(rejected.RetryAfter, TimeSpan.FromSeconds(15), TimeSpan.FromSeconds(30));
            }

            // An operator's reset on any instance closes the circuit for the whole fleet.
            Task<long>[] closed = [.. breakers.Select(breaker => Eventually.StateChange(breaker, CircuitState.Closed))];
            breakers[(round + 1) % breakers.Length].Reset();
            await Task.WhenAll(closed.Select(task => task.Within("every instance Closed after the reset")));
            await Eventually.True(async () => await fleet.Field("search", "st") == 0, "closed in Redis");
        }
    }

    [Fact]
    public async Task AResetStaysReset_WhenTheFailuresThatTrippedTheCircuitAreReportedAfterIt()
    {
        await using Fleet fleet = await Fleet.StartAsync(redis.Server, redis.Admin, 2, Threshold3, o => o.ResyncInterval = TimeSpan.FromMilliseconds(100));
        CircuitBreaker[] breakers = await fleet.JoinAsync("reset");
        (CircuitBreaker a, CircuitBreaker b) = (breakers[0], breakers[1]);

        // Hold A's outcome reports until the operator has reset the circuit (a report can always be that late).
        var reportsMayGo = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        fleet[0].Scripts.Intercept = call => call.Script == "Report" ? HoldThen(reportsMayGo.Task, call) : null;
        Task<long> bOpened = Eventually.StateChange(b, CircuitState.Open);
        a.Fail(3);
        await bOpened.Within("B Open");

        Task<long> bClosed = Eventually.StateChange(b, CircuitState.Closed);
        a.Reset();
        await bClosed.Within("B Closed after the reset");
        reportsMayGo.SetResult();

        // Once A has applied the reset's answer (A's next script completed after it; outcomes in the round trip
        // between a change and its answer are attributed to the state before), one new failure on A: it is reported,
        // and counts as one (below the threshold)...
        ScriptCall set = Assert.Single(fleet[0].Scripts.Of("Set"));
        await Eventually.True(() => set.IsCompleted && fleet[0].Scripts.Calls.Any(call => call.StartedAt > set.CompletedAt && call.IsCompleted), "A applied the reset");
        long fresh = TimeProvider.System.GetTimestamp();
        Assert.True(a.Fail());
        await Eventually.True(() => fleet[0].Scripts.Of("Report").Any(call => call.IsCompleted && call.StartedAt > fresh), "A's new failure reported");

        // ... while the three failures from before the reset never trip the circuit the operator just closed.
        Assert.Equal(0, await fleet.Field("reset", "st"));
        Assert.InRange((await fleet.Field("reset", "cf"))!.Value, 0, 1);
        Assert.Equal(CircuitState.Closed, a.State);
        Assert.Equal(CircuitState.Closed, b.State);
        Assert.True(b.TrySucceed());
    }

    [Fact]
    public async Task AnOpenStateWrittenWithoutPublishing_ReachesEveryInstanceThroughTheResync()
    {
        TimeSpan resync = TimeSpan.FromMilliseconds(200);
        await using Fleet fleet = await Fleet.StartAsync(redis.Server, redis.Admin, 2, Threshold3, o => o.ResyncInterval = resync);
        CircuitBreaker[] breakers = await fleet.JoinAsync("resync");
        Task<long>[] opened = [.. breakers.Select(breaker => Eventually.StateChange(breaker, CircuitState.Open))];

        int[] gets = [.. fleet.Nodes.Select(node => node.Scripts.Completed("Get"))];
        await fleet.Admin.OpenWithoutPublishing(fleet.HashKey("resync"), openForMs: 20_000);

        // No message was published: only the periodic resync can have told them.
        await Task.WhenAll(opened.Select(task => task.Within("every instance Open")));
        Assert.All(fleet.Nodes.Select((node, i) => node.Scripts.Completed("Get") - gets[i]), resyncs => Assert.True(resyncs > 0, "the instance resynced"));

        Assert.All(breakers, breaker => Assert.InRange(breaker.Rejection()!.RetryAfter, TimeSpan.FromSeconds(15), TimeSpan.FromSeconds(20)));
    }

    [Fact]
    public async Task AnInstanceThatLostItsSubscription_IsHealedByTheResync()
    {
        TimeSpan resync = TimeSpan.FromMilliseconds(200);
        await using Fleet fleet = await Fleet.StartAsync(redis.Server, redis.Admin, 2, Threshold3, o => o.ResyncInterval = resync);
        CircuitBreaker[] breakers = await fleet.JoinAsync("unsubscribed");
        (CircuitBreaker a, CircuitBreaker b) = (breakers[0], breakers[1]);

        await fleet[1].Connection.GetSubscriber().UnsubscribeAllAsync();
        await Eventually.True(async () => await fleet.Subscribers() == 1, "B no longer subscribed");

        Task<long> bOpened = Eventually.StateChange(b, CircuitState.Open);
        int getsBefore = fleet[1].Scripts.Completed("Get");
        a.Fail(3);
        await bOpened.Within("B Open");

        Assert.True(fleet[1].Scripts.Completed("Get") > getsBefore, "B learnt of the trip by resyncing");
        Assert.NotNull(b.Rejection());
    }

    [Fact]
    public async Task DifferentCircuitNames_AreDifferentCircuits()
    {
        await using Fleet fleet = await Fleet.StartAsync(redis.Server, redis.Admin, 2, Threshold3, o => o.ResyncInterval = TimeSpan.FromMilliseconds(100));
        CircuitBreaker[] tripped = await fleet.JoinAsync("openai/gpt-4.1");
        CircuitBreaker[] other = await fleet.JoinAsync("openai/gpt-4.1-mini");

        Task<long> opened = Eventually.StateChange(tripped[1], CircuitState.Open);
        tripped[0].Fail(3);
        await opened.Within("B's gpt-4.1 Open");

        await Eventually.True(() => fleet[1].Scripts.Of("Get", fleet.HashKey("openai/gpt-4.1-mini")).Count(c => c.IsCompleted) >= 2, "B resynced gpt-4.1-mini");
        Assert.All(other, breaker => Assert.Equal(CircuitState.Closed, breaker.State));
        Assert.Equal(0, await fleet.Field("openai/gpt-4.1-mini", "st"));
    }

    [Fact]
    public async Task BreakersCreatedBeforeAttaching_JoinTheFleet_WithoutReportingTheirEarlierCalls()
    {
        await using Fleet fleet = await Fleet.StartAsync(redis.Server, redis.Admin, 1, Threshold3, o => o.ResyncInterval = TimeSpan.FromMilliseconds(100));
        CircuitBreaker b = (await fleet.JoinAsync("existing"))[0];

        // A registry that has been working alone: its breaker saw two failures, then it joins the fleet.
        var registry = new CircuitBreakerRegistry(Threshold3);
        CircuitBreaker a = registry.Get("existing");
        a.Fail(2);
        Node late = await fleet.AddAsync(registry);
        await Eventually.True(() => late.Scripts.Completed("Get", fleet.HashKey("existing")) >= 3, "A resynced a few times");
        Assert.Empty(late.Scripts.Of("Report")); // its history is its own, not news for the fleet
        Assert.Equal(0, await fleet.Field("existing", "cf"));

        Task<long> aOpened = Eventually.StateChange(a, CircuitState.Open);
        b.Fail(3);
        await aOpened.Within("B's trip reaches the breaker that existed before attaching");
        Assert.NotNull(a.Rejection());
    }

    private static async Task<RedisResult> HoldThen(Task gate, ScriptCall call)
    {
        await gate;
        return await call.Proceed();
    }
}
