using StackExchange.Redis;
using Tripswitch.Redis.Tests.Infrastructure;
using Tripswitch.Testing.Redis;
using Xunit;

namespace Tripswitch.Redis.Tests;

/// <summary>Keys live under the configurable prefix (<c>prefix{c:name}</c>, <c>prefix{c:name}:leases</c>, channel <c>prefix + "events"</c>) and expire.</summary>
public sealed class KeyLayoutTests(SharedRedis redis)
{
    private static readonly CircuitBreakerOptions Options = new()
    {
        FailureThreshold = 2,
        RecoveryTimeout = TimeSpan.FromMilliseconds(300),
        SuccessThreshold = 1,
    };

    [Fact]
    public async Task TwoPrefixes_AreTwoFleets_ThatDoNotInterfere()
    {
        await using Fleet first = await Fleet.StartAsync(redis.Server, redis.Admin, 2, Options, o => o.ResyncInterval = TimeSpan.FromMilliseconds(100));
        await using Fleet second = await Fleet.StartAsync(redis.Server, redis.Admin, 2, Options, o => o.ResyncInterval = TimeSpan.FromMilliseconds(100));
        Assert.NotEqual(first.Prefix, second.Prefix);
        CircuitBreaker[] one = await first.JoinAsync("same-name");
        CircuitBreaker[] two = await second.JoinAsync("same-name");

        Task<long> opened = Eventually.StateChange(one[1], CircuitState.Open);
        one[0].Fail(2);
        await opened.Within("the first fleet's trip propagates");

        // The second fleet resyncs a few times: still closed, in Redis and everywhere.
        int[] gets = [.. second.Nodes.Select(node => node.Scripts.Completed("Get"))];
        await Eventually.True(() => second.Nodes.Select((node, i) => node.Scripts.Completed("Get") - gets[i]).All(n => n >= 2), "the second fleet resynced");
        Assert.All(two, breaker => Assert.Equal(CircuitState.Closed, breaker.State));
        Assert.Equal(0, await second.Field("same-name", "st"));
        Assert.Equal(1, await first.Field("same-name", "st"));
        Assert.True(two[1].TrySucceed());
    }

    [Fact]
    public async Task TheKeysFollowTheLayout_UnderThePrefix_WithAnExpiry()
    {
        TimeSpan expiry = TimeSpan.FromSeconds(30);
        await using Fleet fleet = await Fleet.StartAsync(redis.Server, redis.Admin, 2, Options, o => o.KeyExpiry = expiry);
        CircuitBreaker[] breakers = await fleet.JoinAsync("layout");
        breakers[0].Fail(2);
        CircuitPermit probe = default;
        await Eventually.True(() => breakers[1].TryAcquirePermit(out probe, out _) && probe.IsProbe, "a probe holds a lease");

        IDatabase db = fleet.Admin;
        IServer server = db.Multiplexer.GetServer(db.Multiplexer.GetEndPoints()[0]);
        string[] keys = [.. server.Keys(pattern: fleet.Prefix + "*").Select(key => (string)key!).Order(StringComparer.Ordinal)];
        // The literal layout: a hash tag {c:name} after the prefix, so a circuit's keys share one Cluster slot.
        string hash = fleet.Prefix + "{c:layout}";
        string leases = fleet.Prefix + "{c:layout}:leases";
        Assert.Equal(new[] { hash, leases }, keys);
        Assert.Equal("hash", (await db.ExecuteAsync("TYPE", hash)).ToString());
        Assert.Equal("zset", (await db.ExecuteAsync("TYPE", leases)).ToString());
        Assert.Equal(
            new[] { "att", "cf", "epoch", "gen", "hs", "hu", "st", "until" },
            (await db.HashKeysAsync(hash)).Select(field => (string)field!).Order(StringComparer.Ordinal));
        foreach (string key in keys)
        {
            TimeSpan? ttl = await db.KeyTimeToLiveAsync(key);
            Assert.NotNull(ttl);
            Assert.InRange(ttl.Value, TimeSpan.FromMilliseconds(1), expiry);
        }

        RedisResult channels = await db.ExecuteAsync("PUBSUB", "CHANNELS", fleet.Prefix + "*");
        Assert.Equal(new[] { fleet.Prefix + "events" }, ((RedisResult[])channels!).Select(channel => channel.ToString()));
        probe.RecordSuccess();
    }

    [Fact]
    public async Task AnAbandonedCircuitsKeys_Expire()
    {
        TimeSpan expiry = TimeSpan.FromSeconds(1);
        Fleet fleet = await Fleet.StartAsync(redis.Server, redis.Admin, 1, Options, o => o.KeyExpiry = expiry);
        string key;
        await using (fleet)
        {
            CircuitBreaker breaker = (await fleet.JoinAsync("abandoned"))[0];
            breaker.Fail(2);
            key = fleet.Prefix + "{c:abandoned}";
            await Eventually.True(async () => await fleet.Field("abandoned", "st") == 1, "open in Redis");
            Assert.InRange((await fleet.Admin.KeyTimeToLiveAsync(key))!.Value, TimeSpan.FromMilliseconds(1), expiry);
        }

        // Nobody uses the circuit any more: its keys go away by themselves.
        await Eventually.True(async () => !await redis.Admin.KeyExistsAsync(key), "the abandoned key expired", expiry * 5);
    }
}
