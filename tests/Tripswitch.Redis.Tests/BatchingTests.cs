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
}
