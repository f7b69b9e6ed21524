using Microsoft.Extensions.Time.Testing;
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

    /// <remarks>
    /// The instance's clock is fake, so its report timer ticks only when the test advances it: what goes to Redis is
    /// decided by the ticks, never by how fast a loaded machine runs the calls. The test waits for the report's own
    /// reply before it reads the store or the report. (It used to poll the store from another connection, then count
    /// the reports its monitor had marked completed: the server had run the report, but the instance's connection had
    /// not yet handed its reply over, so on a loaded machine it counted none of the 20,000 successes.)
    /// </remarks>
    [Fact]
    public async Task ThousandsOfCalls_CostOnlyTheBatchedReports()
    {
        var time = new FakeTimeProvider();
        var options = new CircuitBreakerOptions { FailureThreshold = 1_000, RecoveryTimeout = TimeSpan.FromSeconds(30) };
        await using Fleet fleet = await Fleet.StartAsync(redis.Server, redis.Admin, 1, options, o =>
        {
            o.ReportInterval = ReportInterval;
            o.ResyncInterval = ResyncInterval;
            o.TimeProvider = time;
        });
        CircuitBreaker breaker = (await fleet.JoinAsync("hot"))[0];
        ScriptMonitor scripts = fleet[0].Scripts;
        int before = scripts.Calls.Count;

        const int Calls = 20_000;
        for (int i = 0; i < Calls; i++)
        {
            Assert.True(breaker.TrySucceed());
        }

        breaker.Fail(2);

        // No call sent anything: the calls only count, locally.
        Assert.Equal(before, scripts.Calls.Count);

        // One report interval later, exactly one script carries every outcome: one report, not one per call.
        time.Advance(ReportInterval);
        ScriptCall[] sent = [.. scripts.Calls.Skip(before)];
        ScriptCall report = Assert.Single(sent);
        Assert.Equal("Report", report.Script);
        Assert.Equal([fleet.HashKey("hot")], report.Keys);
        Assert.Equal(Calls, report.Arg(1)); // a batch of one circuit: name, successes, failures, trailing failures, …
        Assert.Equal(2, report.Arg(2));
        Assert.Equal(2, report.Arg(3));

        // It reached the fleet: once Redis answered, the fleet's count is the two failures after the last success.
        await report.Done.Within("the report's reply");
        Assert.True(report.IsCompleted, report.Error?.ToString());
        Assert.Equal(2, await fleet.Field("hot", "cf"));

        // Nothing new happened, so later intervals send no report (a resync is the only script, once a resync interval).
        time.Advance(ResyncInterval);
        Assert.Equal(1, scripts.Calls.Skip(before).Count(call => call.Script == "Report"));
        Assert.Equal(1, scripts.Calls.Skip(before).Count(call => call.Script == "Get"));
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
