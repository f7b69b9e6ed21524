using Tripswitch.Redis.Tests.Infrastructure;
using Tripswitch.Testing.Redis;
using Xunit;

namespace Tripswitch.Redis.Tests;

/// <summary>Open deadlines are decided on the Redis server's clock (TIME), not on each host's.</summary>
public sealed class ServerClockTests(SharedRedis redis)
{
    [Fact]
    public async Task OpenDeadlines_FollowTheRedisServersClock_NotTheHosts()
    {
        TimeSpan recovery = TimeSpan.FromMilliseconds(1500);
        TimeSpan tolerance = TimeSpan.FromMilliseconds(60);

        // A's host clock is a day behind (and its timestamps off by hours); B's is a day ahead, and B's own options
        // would keep a circuit open for a minute.
        var aOptions = new CircuitBreakerOptions
        {
            FailureThreshold = 2,
            RecoveryTimeout = recovery,
            SuccessThreshold = 1,
            TimeProvider = new SkewedTimeProvider(TimeSpan.FromDays(-1), TimeSpan.FromHours(3)),
        };
        var bOptions = new CircuitBreakerOptions
        {
            FailureThreshold = 2,
            RecoveryTimeout = TimeSpan.FromMinutes(1),
            SuccessThreshold = 1,
            TimeProvider = new SkewedTimeProvider(TimeSpan.FromDays(1), TimeSpan.FromDays(1)),
        };
        await using Fleet fleet = await Fleet.StartAsync(redis.Server, redis.Admin, 1, aOptions);
        CircuitBreaker a = (await fleet.JoinAsync("clock"))[0];

        long before = await fleet.Admin.ServerTimeMs();
        a.Fail(2);
        await Eventually.True(async () => await fleet.Field("clock", "st") == 1, "open in Redis");
        long after = await fleet.Admin.ServerTimeMs();
        long until = (await fleet.Field("clock", "until"))!.Value;
        Assert.InRange(until, before + (long)recovery.TotalMilliseconds, after + (long)recovery.TotalMilliseconds);

        // B joins 600 ms into the open period, by the server's clock: it is left with the rest of the fleet's period.
        await Eventually.True(async () => await fleet.Admin.ServerTimeMs() >= until - 900, "600 ms of the open period passed on the server");
        Node late = await fleet.AddAsync(new CircuitBreakerRegistry(bOptions));
        CircuitBreaker b = late["clock"];
        await Eventually.True(() => b.State == CircuitState.Open, "B follows the fleet");
        long t2 = await fleet.Admin.ServerTimeMs();
        TimeSpan left = b.GetSummary().RetryAfter;
        long t3 = await fleet.Admin.ServerTimeMs();
        Assert.InRange(left.TotalMilliseconds, until - t3 - tolerance.TotalMilliseconds, until - t2 + tolerance.TotalMilliseconds);

        // Both half-open when the server's period ends: not before (by either host's clock), and not much later.
        await Eventually.True(() => b.State == CircuitState.HalfOpen && a.State == CircuitState.HalfOpen, "half-open");
        long t4 = await fleet.Admin.ServerTimeMs();
        Assert.InRange(t4, until - 2, until + 500);
    }
}
