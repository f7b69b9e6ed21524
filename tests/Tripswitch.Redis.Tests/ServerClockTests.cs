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
        TimeSpan recovery = TimeSpan.FromSeconds(3);

        // Server times are whole milliseconds, and so is the remaining time a script returns: allow that rounding only.
        const long rounding = 2;

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
        // The bounds need no allowance for a slow machine: B read the state at a server time after t1 and holds its
        // remaining time from then, so by t3 (after the read) at most until - t1 and at least until - t3 can be left.
        await Eventually.True(async () => await fleet.Admin.ServerTimeMs() >= until - recovery.TotalMilliseconds + 600, "600 ms of the open period passed on the server");
        long t1 = await fleet.Admin.ServerTimeMs();
        Node late = await fleet.AddAsync(new CircuitBreakerRegistry(bOptions));
        CircuitBreaker b = late["clock"];
        await Eventually.True(() => b.State == CircuitState.Open, "B follows the fleet");
        TimeSpan left = b.GetSummary().RetryAfter;
        long t3 = await fleet.Admin.ServerTimeMs();
        Assert.InRange(left.TotalMilliseconds, until - t3 - rounding, until - t1 + rounding);
        Assert.True(left < recovery, $"B is left {left.TotalMilliseconds} ms: the rest of the fleet's period, not its own minute");

        // Both half-open when the server's period ends: not before (by either host's clock), and well before B's own
        // minute would have ended (the wait's own deadline bounds "not much later").
        await Eventually.True(() => b.State == CircuitState.HalfOpen && a.State == CircuitState.HalfOpen, "half-open");
        long t4 = await fleet.Admin.ServerTimeMs();
        Assert.True(t4 >= until - rounding, $"half-open at server time {t4}, before the fleet's deadline {until}");
    }
}
