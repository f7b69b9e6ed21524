using StackExchange.Redis;
using Tripswitch.Redis.Tests.Infrastructure;
using Tripswitch.Testing.Redis;
using Xunit;

namespace Tripswitch.Redis.Tests;

/// <summary>The hot path stays local: no Redis round trip per call; outcomes travel in batches, at most a ReportInterval late.</summary>
public sealed class HotPathTests(SharedRedis redis)
{
    private static readonly TimeSpan ReportInterval = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan ResyncInterval = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task ThousandsOfCalls_CostOnlyTheBatchedReports()
    {
        var options = new CircuitBreakerOptions { FailureThreshold = 1_000, RecoveryTimeout = TimeSpan.FromSeconds(30) };
        await using Fleet fleet = await Fleet.StartAsync(redis.Server, redis.Admin, 1, options, o =>
        {
            o.ReportInterval = ReportInterval;
            o.ResyncInterval = ResyncInterval;
        });
        CircuitBreaker breaker = (await fleet.JoinAsync("hot"))[0];
        ScriptMonitor scripts = fleet[0].Scripts;
        int before = scripts.Calls.Count;

        const int Calls = 20_000;
        long start = TimeProvider.System.GetTimestamp();
        for (int i = 0; i < Calls; i++)
        {
            Assert.True(breaker.TrySucceed());
        }

        breaker.Fail(2);
        long end = TimeProvider.System.GetTimestamp();
        int during = scripts.Calls.Count - before;

        // At most one report per interval and one resync per resync interval went out while the calls ran (plus the
        // ticks that straddle the start and the end), however many calls there were.
        TimeSpan elapsed = TimeProvider.System.GetElapsedTime(start, end);
        int bound = (int)(elapsed / ReportInterval) + (int)(elapsed / ResyncInterval) + 3;
        Assert.True(during <= bound, $"{during} scripts for {Calls + 2} calls in {elapsed.TotalMilliseconds:F0} ms (bound {bound})");

        // The last outcomes reach Redis within about one ReportInterval, in a batch.
        await Eventually.True(async () => await fleet.Field("hot", "cf") == 2, "the two trailing failures reported");
        double delay = TimeProvider.System.GetElapsedTime(end).TotalMilliseconds;
        Assert.True(delay <= (ReportInterval * 2 + TimeSpan.FromMilliseconds(250)).TotalMilliseconds, $"reported {delay:F0} ms after the last call");
        ScriptCall[] reports = [.. scripts.Of("Report").Where(call => call.IsCompleted)];
        Assert.Equal(Calls, reports.Sum(call => call.Arg(1))); // a batch of one circuit: name, successes, failures, …
        Assert.Equal(2, reports.Sum(call => call.Arg(2)));
        Assert.True(reports.Length <= bound, $"{reports.Length} reports");
    }

    [Fact]
    public async Task CallsNeverWaitForRedis_EvenWhenEveryCommandHangs()
    {
        var options = new CircuitBreakerOptions
        {
            FailureThreshold = 3,
            RecoveryTimeout = TimeSpan.FromMilliseconds(200),
            SuccessThreshold = 1,
        };
        await using Fleet fleet = await Fleet.StartAsync(redis.Server, redis.Admin, 1, options, o => o.ReportInterval = TimeSpan.FromMilliseconds(10));
        CircuitBreaker breaker = (await fleet.JoinAsync("hung"))[0];

        // From now on Redis never answers (a hung connection): every script waits forever.
        var never = new TaskCompletionSource<RedisResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        fleet[0].Scripts.Intercept = _ => never.Task;

        for (int i = 0; i < 1_000; i++)
        {
            Assert.True(breaker.TrySucceed());
        }

        // The local rules still decide at once: a trip, rejections, and (the fleet's lease being unavailable) a
        // half-open circuit that rejects instead of waiting for Redis.
        Task<long> halfOpen = Eventually.StateChange(breaker, CircuitState.HalfOpen);
        breaker.Fail(3);
        Assert.Equal(CircuitState.Open, breaker.Rejection()!.State);
        await Eventually.True(() => breaker.State == CircuitState.HalfOpen, "half-open after the open period");
        await halfOpen;
        for (int i = 0; i < 100; i++)
        {
            Assert.Equal(CircuitState.HalfOpen, breaker.Rejection()!.State);
        }

        Assert.True(fleet[0].Scripts.Count("Lease") >= 1, "a probe lease was asked for");
        Assert.True(fleet[0].Scripts.Calls.Count < 100, $"{fleet[0].Scripts.Calls.Count} scripts: at most one of each kind is in flight at a time");
        Assert.False(fleet[0].Sharing.IsDegraded);
    }
}
