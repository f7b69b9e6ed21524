using StackExchange.Redis;
using Tripswitch.Redis.Tests.Infrastructure;
using Tripswitch.Testing.Redis;
using Xunit;

namespace Tripswitch.Redis.Tests;

/// <summary>Garbage in Redis (under the circuit's keys, or on the channel) is survived: replaced or ignored, never thrown.</summary>
public sealed class CorruptStateTests(SharedRedis redis)
{
    private static readonly CircuitBreakerOptions Options = new()
    {
        FailureThreshold = 3,
        RecoveryTimeout = TimeSpan.FromMilliseconds(300),
        SuccessThreshold = 1,
    };

    private static readonly string[] Fields = ["epoch", "gen", "st", "until", "cf", "hs", "att", "hu"];

    public static TheoryData<string> HashGarbage => ["string instead of a hash", "non-numeric fields", "state out of range", "missing fields", "negative count", "fractional generation", "list instead of a hash"];

    [Theory]
    [MemberData(nameof(HashGarbage))]
    public async Task GarbageUnderTheCircuitsKey_IsReplaced_AndTheCircuitKeepsWorking(string garbage)
    {
        await using Fleet fleet = await Fleet.StartAsync(redis.Server, redis.Admin, 2, Options);
        CircuitBreaker[] breakers = await fleet.JoinAsync("garbage");
        (CircuitBreaker a, CircuitBreaker b) = (breakers[0], breakers[1]);
        string key = fleet.HashKey("garbage");
        IDatabase db = fleet.Admin;

        switch (garbage)
        {
            case "string instead of a hash":
                await db.KeyDeleteAsync(key);
                await db.StringSetAsync(key, "not a hash");
                break;
            case "list instead of a hash":
                await db.KeyDeleteAsync(key);
                await db.ListRightPushAsync(key, ["1", "2", "3"]);
                break;
            case "non-numeric fields":
                await db.HashSetAsync(key, [.. Fields.Select(field => new HashEntry(field, "x" + field))]);
                break;
            case "state out of range":
                await db.HashSetAsync(key, "st", 7);
                break;
            case "missing fields":
                await db.KeyDeleteAsync(key);
                await db.HashSetAsync(key, "st", 1);
                break;
            case "negative count":
                await db.HashSetAsync(key, "cf", -1);
                break;
            case "fractional generation":
                await db.HashSetAsync(key, "gen", "1.5");
                break;
        }

        // Callers never notice; the next script replaces the garbage and the circuit works as before.
        Assert.True(a.TrySucceed());
        Task<long> bOpened = Eventually.StateChange(b, CircuitState.Open);
        a.Fail(3);
        await bOpened.Within("the trip reaches B through the repaired key");
        Assert.Equal("hash", (await db.ExecuteAsync("TYPE", key)).ToString());
        Assert.Equal(1, await fleet.Field("garbage", "st"));
        foreach (string field in Fields)
        {
            Assert.NotNull(await fleet.Field("garbage", field)); // numeric again
        }

        await Eventually.True(() => TryCall(b) && b.State == CircuitState.Closed, "recovers through half-open");
        await Eventually.True(() => a.State == CircuitState.Closed, "closed everywhere");
        AssertNoStoreErrors(fleet);
    }

    public static TheoryData<string> LeasesGarbage => ["string", "list", "hash"];

    [Theory]
    [MemberData(nameof(LeasesGarbage))]
    public async Task AWrongTypeLeasesKey_IsReplaced_AndHalfOpenKeepsWorking(string type)
    {
        await using Fleet fleet = await Fleet.StartAsync(redis.Server, redis.Admin, 2, Options);
        CircuitBreaker[] breakers = await fleet.JoinAsync("leases");
        (CircuitBreaker a, CircuitBreaker b) = (breakers[0], breakers[1]);
        string leases = fleet.LeasesKey("leases");
        IDatabase db = fleet.Admin;

        a.Fail(3);
        CircuitPermit probe = default;
        await Eventually.True(() => b.TryAcquirePermit(out probe, out _) && probe.IsProbe, "B probes");
        Assert.Equal("zset", (await db.ExecuteAsync("TYPE", leases)).ToString());

        // While B's probe runs, its lease is overwritten with a value of another type.
        await db.KeyDeleteAsync(leases);
        _ = type switch
        {
            "string" => await db.StringSetAsync(leases, "garbage"),
            "list" => await db.ListRightPushAsync(leases, "garbage") > 0,
            _ => await db.HashSetAsync(leases, "garbage", "1"),
        };
        probe.RecordSuccess(); // its lease is gone: it no longer counts for the fleet, and nothing breaks

        await Eventually.True(() => TryCall(a) && a.State == CircuitState.Closed, "A probes and closes the circuit");
        await Eventually.True(async () => await fleet.Field("leases", "st") == 0 && b.State == CircuitState.Closed, "closed everywhere");
        string leasesType = (await db.ExecuteAsync("TYPE", leases)).ToString();
        Assert.Contains(leasesType, new[] { "none", "zset" });
        AssertNoStoreErrors(fleet);
    }

    [Fact]
    public async Task GarbageOnTheChannel_IsIgnored()
    {
        await using Fleet fleet = await Fleet.StartAsync(redis.Server, redis.Admin, 2, Options);
        CircuitBreaker[] breakers = await fleet.JoinAsync("channel");
        (CircuitBreaker a, CircuitBreaker b) = (breakers[0], breakers[1]);
        var channel = RedisChannel.Literal(fleet.Channel);
        RedisValue[] garbage =
        [
            "garbage", string.Empty, "1|2|1", "x|1|1|0|channel", "1|x|1|0|channel", "1|1|9|0|channel", "-1|5|1|0|channel",
            "1|1|1|-5|channel", "1|1|1|0|", "99999999999999999999999|1|1|0|channel", new byte[] { 0xff, 0xfe, 0x00, 0x7c },
        ];
        foreach (RedisValue message in garbage)
        {
            Assert.Equal(2, await fleet.Admin.PublishAsync(channel, message));
        }

        // Delivered in order after the garbage: the real trip still reaches B, and the garbage moved nothing.
        Task<long> bOpened = Eventually.StateChange(b, CircuitState.Open);
        a.Fail(3);
        await bOpened.Within("the trip reaches B");
        Assert.Equal(new[] { CircuitState.Open }, b.GetSummary().Transitions.Select(t => t.To));
        AssertNoStoreErrors(fleet);
    }

    /// <summary>One call that succeeds if it runs (probe or not); false when rejected.</summary>
    private static bool TryCall(CircuitBreaker breaker)
    {
        if (breaker.TryAcquirePermit(out CircuitPermit permit, out _))
        {
            permit.RecordSuccess();
            return true;
        }

        return false;
    }

    private static void AssertNoStoreErrors(Fleet fleet)
    {
        foreach (Node node in fleet.Nodes)
        {
            Assert.False(node.Sharing.IsDegraded);
            Assert.Empty(node.Scripts.Faulted.Select(call => $"{call.Script}: {call.Error}"));
        }
    }
}
