using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;
using Tripswitch.Redis.Tests.Infrastructure;
using Tripswitch.Testing.Redis;
using Xunit;

namespace Tripswitch.Redis.Tests;

/// <summary>Redis load doesn't grow with the number of active circuits: one report call per interval carries them all.</summary>
public sealed class BatchingTests(SharedRedis redis)
{
    private static readonly TimeSpan ReportInterval = TimeSpan.FromMilliseconds(100);

    [Fact]
    public async Task TwoHundredBusyCircuits_AreReportedInOneScriptCallPerInterval()
    {
        const int Circuits = 200;
        var options = new CircuitBreakerOptions { FailureThreshold = 1_000, RecoveryTimeout = TimeSpan.FromSeconds(30) };
        await using Fleet fleet = await Fleet.StartAsync(redis.Server, redis.Admin, 1, options, o =>
        {
            o.ReportInterval = ReportInterval;
            o.ResyncInterval = TimeSpan.FromSeconds(10);
        });
        CircuitBreaker[] breakers = [.. Enumerable.Range(0, Circuits).Select(i => fleet[0]["busy/" + i])];
        ScriptMonitor scripts = fleet[0].Scripts;
        await Eventually.True(() => scripts.Completed("Get") >= Circuits, "every circuit joined");

        // Every circuit fails once: all 200 reports must reach Redis.
        long start = TimeProvider.System.GetTimestamp();
        foreach (CircuitBreaker breaker in breakers)
        {
            breaker.Fail(1);
        }

        await Eventually.True(
            async () => (await Task.WhenAll(breakers.Select(breaker => fleet.Field(breaker.Name, "cf")))).All(cf => cf == 1),
            "every circuit's failure reported");
        TimeSpan elapsed = TimeProvider.System.GetElapsedTime(start);

        // One script call per report interval carried them (plus the ticks that straddle the start and the end).
        ScriptCall[] reports = [.. scripts.Of("Report").Where(call => call.StartedAt >= start)];
        int bound = (int)(elapsed / ReportInterval) + 2;
        Assert.True(reports.Length <= bound, $"{reports.Length} report calls for {Circuits} circuits in {elapsed.TotalMilliseconds:F0} ms (bound {bound})");
        Assert.Equal(Circuits, reports.Sum(call => call.Keys.Count));
        Assert.Contains(reports, call => call.Keys.Count > 1);
    }

    /// <summary>
    /// More active circuits in one interval than one script call carries (500): the tick sends several calls, every
    /// circuit's outcomes reach the fleet, and no circuit stays marked as having a report in flight, so the next
    /// outcomes of every one of them are reported too.
    /// </summary>
    [Fact]
    public async Task MoreCircuitsThanOneCallCarries_AreAllReported_AndReportedAgain()
    {
        const int Circuits = 1_200;
        var time = new FakeTimeProvider();
        var options = new CircuitBreakerOptions { FailureThreshold = 1_000, RecoveryTimeout = TimeSpan.FromSeconds(30) };
        await using Fleet fleet = await Fleet.StartAsync(redis.Server, redis.Admin, 1, options, o =>
        {
            o.ReportInterval = ReportInterval;
            o.ResyncInterval = TimeSpan.FromMinutes(10); // no resync in this test: only reports
            o.TimeProvider = time;
        });
        CircuitBreaker[] breakers = [.. Enumerable.Range(0, Circuits).Select(i => fleet[0]["many/" + i])];
        string[] keys = [.. breakers.Select(breaker => fleet.HashKey(breaker.Name))];
        ScriptMonitor scripts = fleet[0].Scripts;
        await Eventually.True(() => scripts.Completed("Get") >= Circuits, "every circuit joined");

        // Round one: every circuit fails once, and one tick sends every report, in calls of at most 500 circuits.
        foreach (CircuitBreaker breaker in breakers)
        {
            breaker.Fail(1);
        }

        time.Advance(ReportInterval);
        ScriptCall[] first = [.. scripts.Of("Report")];
        Assert.Equal(3, first.Length); // 500 + 500 + 200
        Assert.All(first, call => Assert.InRange(call.Keys.Count, 1, 500));
        Assert.Equal(keys.Order(StringComparer.Ordinal), first.SelectMany(call => call.Keys).Order(StringComparer.Ordinal));
        await Task.WhenAll(first.Select(call => call.Done)).Within("the first round's replies");
        Assert.All(first, call => Assert.True(call.IsCompleted, call.Error?.ToString()));
        Assert.Equal(Enumerable.Repeat<long?>(1, Circuits), await ConsecutiveFailures(fleet, keys));

        // Round two: every circuit fails again. A circuit still marked "in flight" from round one would never report
        // again, and its count in the fleet would stay at 1: ticks go on until every count is 2 (or the wait fails).
        foreach (CircuitBreaker breaker in breakers)
        {
            breaker.Fail(1);
        }

        await Eventually.True(
            async () =>
            {
                time.Advance(ReportInterval);
                await Task.WhenAll(scripts.Of("Report").Select(call => call.Done));
                return (await ConsecutiveFailures(fleet, keys)).All(cf => cf == 2);
            },
            "every circuit's second failure reported");

        // Each circuit was reported exactly twice: once a round.
        Assert.All(
            scripts.Of("Report").SelectMany(call => call.Keys).GroupBy(key => key),
            group => Assert.Equal(2, group.Count()));
        Assert.All(scripts.Of("Report"), call => Assert.InRange(call.Keys.Count, 1, 500));
        Assert.False(fleet[0].Sharing.IsDegraded);
    }

    /// <summary>Every circuit's count of consecutive failures in the store (field <c>cf</c>), read in one pipelined batch.</summary>
    private static async Task<long?[]> ConsecutiveFailures(Fleet fleet, string[] keys)
    {
        RedisValue[] values = await Task.WhenAll(keys.Select(key => fleet.Admin.HashGetAsync(key, "cf")));
        return [.. values.Select(value => value.IsNull ? (long?)null : (long)value)];
    }
}
