using Tripswitch.Redis.Tests.Infrastructure;
using Tripswitch.Testing.Redis;
using Xunit;

namespace Tripswitch.Redis.Tests;

/// <summary>
/// Fleet-wide failure-rate windows: a CountWindow or TimeWindow circuit shared through Redis is judged on the fleet's
/// calls, counted in buckets on the server (see RedisWindowScript), not on each instance's own calls.
/// </summary>
public sealed class FleetWindowTests(SharedRedis redis)
{
    /// <summary>The issue's numbers: each instance sees 8 calls at 75 % failure, the window needs 20 calls.</summary>
    private static CircuitBreakerOptions IssueOptions(FailureRule rule) => new()
    {
        Rule = rule,
        WindowSize = 100,
        SamplingDuration = TimeSpan.FromSeconds(30),
        MinimumThroughput = 20,
        FailureRatio = 0.5,
        RecoveryTimeout = TimeSpan.FromSeconds(30),
    };

    [Theory]
    [InlineData(FailureRule.CountWindow)]
    [InlineData(FailureRule.TimeWindow)]
    public async Task FourInstancesEachBelowMinimumThroughput_TripOnTheFleetsRatio(FailureRule rule)
    {
        // Alone, 8 calls at 75 % never trip: below the minimum throughput.
        var alone = new CircuitBreaker(IssueOptions(rule));
        Mix(alone, successes: 2, failures: 6);
        Assert.Equal(CircuitState.Closed, alone.State);

        await using Fleet fleet = await Fleet.StartAsync(redis.Server, redis.Admin, 4, IssueOptions(rule));
        CircuitBreaker[] breakers = await fleet.JoinAsync("issue");
        Task<long>[] opened = [.. breakers.Select(breaker => Eventually.StateChange(breaker, CircuitState.Open))];

        // 32 calls at 75 %: the fleet's window trips, on every instance (no instance's own window can: 8 < 20).
        foreach (CircuitBreaker breaker in breakers)
        {
            Mix(breaker, successes: 2, failures: 6);
        }

        await Task.WhenAll(opened).Within("the fleet's window opens the circuit on every instance");
        Assert.Equal(1, await fleet.Field("issue", "st"));
        Assert.All(breakers, breaker => Assert.Equal(CircuitState.Open, breaker.Rejection()!.State));
    }

    [Theory]
    [InlineData(FailureRule.CountWindow)]
    [InlineData(FailureRule.TimeWindow)]
    public async Task AHealthyFleetBelowTheRatio_StaysClosed(FailureRule rule)
    {
        await using Fleet fleet = await Fleet.StartAsync(redis.Server, redis.Admin, 4, IssueOptions(rule));
        CircuitBreaker[] breakers = await fleet.JoinAsync("healthy");

        foreach (CircuitBreaker breaker in breakers)
        {
            Mix(breaker, successes: 5, failures: 3); // 37.5 %: below the 50 % ratio
        }

        await fleet.Holds("healthy", 32);
        Assert.Equal((32d, 12d, 0d), await fleet.Window("healthy"));
        Assert.Equal(0, await fleet.Field("healthy", "st"));
        Assert.All(breakers, breaker => Assert.Equal(CircuitState.Closed, breaker.State));

        // The same fleet trips once its ratio reaches the threshold: 12 + 6 failures of 38 calls is over 47 %, 12 + 8 of 40 is 50 %.
        Task<long> opened = Eventually.StateChange(breakers[3], CircuitState.Open);
        breakers[0].Fail(6);
        await fleet.Holds("healthy", 38);
        Assert.Equal(0, await fleet.Field("healthy", "st"));
        breakers[1].Fail(2);
        await opened.Within("the fleet's ratio reaches 50 %");
    }

    [Theory]
    [InlineData("count", FailureRule.CountWindow)]
    [InlineData("time", FailureRule.TimeWindow)]
    public async Task ThreeInstancesAndAnotherProcess_AllFourCallsCount(string ruleArg, FailureRule rule)
    {
        // The window needs all 32 calls: no instance alone, and no three together, can open it.
        CircuitBreakerOptions options = IssueOptions(rule);
        options.MinimumThroughput = 32;
        await using Fleet fleet = await Fleet.StartAsync(redis.Server, redis.Admin, 3, options);
        await using FleetProcess process = await FleetProcess.StartAsync(
        [
            "--redis", redis.Server.Configuration, "--circuit", "processes", "--prefix", fleet.Prefix, "--rule", ruleArg,
            "--window-size", "100", "--sampling-ms", "30000", "--minimum-throughput", "32", "--failure-ratio", "0.5", "--recovery-ms", "30000",
        ]);
        await Eventually.True(async () => await fleet.Subscribers() >= 4, "the process subscribed");
        CircuitBreaker[] breakers = await fleet.JoinAsync("processes");

        foreach (string command in (string[])["ok", "ok", "fail", "fail", "fail", "fail", "fail", "fail"])
        {
            Assert.Equal(command == "ok" ? "ok" : "failed", await process.SendAsync(command));
        }

        Mix(breakers[0], successes: 2, failures: 6);
        Mix(breakers[1], successes: 2, failures: 6);
        await fleet.Holds("processes", 24);
        Assert.Equal(0, await fleet.Field("processes", "st"));

        Mix(breakers[2], successes: 2, failures: 6);
        await Eventually.True(async () => await process.SendAsync("state") == "state Open", "the other process follows the fleet's trip");
        await Eventually.True(() => breakers.All(breaker => breaker.State == CircuitState.Open), "every instance follows the fleet's trip");
        Assert.Equal(1, await fleet.Field("processes", "st"));
        Assert.Equal(0, await process.QuitAsync());
    }

    [Fact]
    public async Task ALocalWindowThatWouldTrip_DefersToTheFleet()
    {
        var options = IssueOptions(FailureRule.CountWindow);
        options.MinimumThroughput = 10;
        await using Fleet fleet = await Fleet.StartAsync(redis.Server, redis.Admin, 2, options);
        CircuitBreaker[] breakers = await fleet.JoinAsync("defers");

        Mix(breakers[1], successes: 40, failures: 0);
        await fleet.Holds("defers", 40);
        breakers[0].Fail(12); // alone: 12 of 12 failed, over the minimum; the fleet: 12 of 52
        await fleet.Holds("defers", 52);

        Assert.Equal(0, await fleet.Field("defers", "st"));
        Assert.All(breakers, breaker => Assert.Equal(CircuitState.Closed, breaker.State));
    }

    [Fact]
    public async Task CountWindow_JudgesTheFleetsLatestWindowSizeCalls_AcrossReports()
    {
        var options = IssueOptions(FailureRule.CountWindow);
        options.WindowSize = 20;
        await using Fleet fleet = await Fleet.StartAsync(redis.Server, redis.Admin, 2, options);
        CircuitBreaker[] breakers = await fleet.JoinAsync("latest");

        Mix(breakers[0], successes: 20, failures: 0);
        await fleet.Holds("latest", 20);

        // The latest 20 calls: 11 successes and 9 failures (45 %). Not all 29 calls (31 %), nor the last report alone (100 %).
        breakers[1].Fail(9);
        await fleet.Holds("latest", 29);
        Assert.Equal(0, await fleet.Field("latest", "st"));

        Task<long> opened = Eventually.StateChange(breakers[0], CircuitState.Open);
        breakers[1].Fail(1); // 10 of the latest 20: 50 %
        await opened.Within("the latest 20 calls are half failures");
        Assert.Equal(1, await fleet.Field("latest", "st"));
    }

    [Fact]
    public async Task TimeWindow_CallsOlderThanSamplingDuration_OnTheServersClock_DoNotCount()
    {
        var options = IssueOptions(FailureRule.TimeWindow);
        options.SamplingDuration = TimeSpan.FromSeconds(2);
        options.MinimumThroughput = 10;
        options.TimeProvider = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(); // the instances' clocks stand still: only the server's moves
        await using Fleet fleet = await Fleet.StartAsync(redis.Server, redis.Admin, 2, options);
        CircuitBreaker[] breakers = await fleet.JoinAsync("expiry");

        breakers[0].Fail(8);
        await fleet.Holds("expiry", 8);
        long reported = await redis.Admin.ServerTimeMs();
        await Eventually.True(async () => await redis.Admin.ServerTimeMs() >= reported + 2_000, "the server's clock passes the sampling duration");

        // 8 old failures and 4 new ones would be 12 calls, all failed; only the 4 new ones are in the window.
        breakers[1].Fail(4);
        await fleet.Holds("expiry", 4);
        Assert.Equal(0, await fleet.Field("expiry", "st"));
        Assert.All(breakers, breaker => Assert.Equal(CircuitState.Closed, breaker.State));

        Task<long> opened = Eventually.StateChange(breakers[0], CircuitState.Open);
        breakers[1].Fail(6); // 10 failures within the sampling duration
        await opened.Within("10 recent failures open the fleet");
    }

    [Theory]
    [InlineData(FailureRule.CountWindow, 10, 10, 0.5, 20)]
    [InlineData(FailureRule.CountWindow, 11, 9, 0.5, 20)]
    [InlineData(FailureRule.CountWindow, 0, 19, 0.5, 20)]
    [InlineData(FailureRule.CountWindow, 7, 3, 0.3, 10)]
    [InlineData(FailureRule.TimeWindow, 7, 3, 0.3, 10)]
    [InlineData(FailureRule.TimeWindow, 8, 2, 0.3, 10)]
    [InlineData(FailureRule.TimeWindow, 1, 19, 0.95, 20)]
    public async Task TheFleetsVerdict_IsTheLocalWindowsVerdict_ForTheSameCalls(FailureRule rule, int successes, int failures, double ratio, int minimum)
    {
        void Configure(CircuitBreakerOptions o)
        {
            o.Rule = rule;
            o.WindowSize = 50;
            o.SamplingDuration = TimeSpan.FromSeconds(30);
            o.FailureRatio = ratio;
            o.MinimumThroughput = minimum;
            o.RecoveryTimeout = TimeSpan.FromSeconds(30);
        }

        var local = new CircuitBreakerOptions();
        Configure(local);
        var alone = new CircuitBreaker(local);
        Mix(alone, successes, failures); // successes first: the ratio only grows, so the last call decides
        bool localOpens = alone.State == CircuitState.Open;

        var shared = new CircuitBreakerOptions();
        Configure(shared);
        await using Fleet fleet = await Fleet.StartAsync(redis.Server, redis.Admin, 1, shared);
        CircuitBreaker[] breakers = await fleet.JoinAsync("verdict");
        Mix(breakers[0], successes, failures);
        await Eventually.True(async () => await fleet.Field("verdict", "st") == 1 || (await fleet.Window("verdict")).Calls == successes + failures, "the fleet judged every call");

        Assert.Equal(localOpens, await fleet.Field("verdict", "st") == 1);
    }

    [Fact]
    public async Task SlowCallRatio_IsJudgedOnTheFleetsSlowCalls()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        var options = IssueOptions(FailureRule.CountWindow);
        options.MinimumThroughput = 10;
        options.FailureRatio = 1;
        options.SlowCallThreshold = TimeSpan.FromSeconds(1);
        options.SlowCallRatio = 0.5;
        options.TimeProvider = time;
        await using Fleet fleet = await Fleet.StartAsync(redis.Server, redis.Admin, 2, options);
        CircuitBreaker[] breakers = await fleet.JoinAsync("slow");

        // 3 slow of 6 on each instance: below the minimum alone, 6 of 12 (50 %) for the fleet.
        Task<long> opened = Eventually.StateChange(breakers[1], CircuitState.Open);
        foreach (CircuitBreaker breaker in breakers)
        {
            for (int i = 0; i < 6; i++)
            {
                breaker.Execute(() => time.Advance(TimeSpan.FromSeconds(i % 2 == 0 ? 2 : 0)));
            }
        }

        await opened.Within("the fleet's slow-call ratio opens it");
        Assert.Equal(1, await fleet.Field("slow", "st"));
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[]")]
    [InlineData("""{"k":"1:100","b":[[0,"x",1,0]]}""")]
    [InlineData("""{"k":"1:100","b":[[0,-5,1,0]]}""")]
    [InlineData("""{"k":"1:100","b":7}""")]
    public async Task AMalformedWindow_IsStartedAnew_NeverCrashedOn(string garbage)
    {
        await using Fleet fleet = await Fleet.StartAsync(redis.Server, redis.Admin, 1, IssueOptions(FailureRule.CountWindow));
        CircuitBreaker[] breakers = await fleet.JoinAsync("garbage");
        await fleet.Admin.HashSetAsync(fleet.HashKey("garbage"), "w", garbage);

        Mix(breakers[0], successes: 2, failures: 6);

        await fleet.Holds("garbage", 8);
        Assert.Equal((8d, 6d, 0d), await fleet.Window("garbage"));
        Assert.Empty(fleet[0].Scripts.Faulted);
        Assert.False(fleet[0].Sharing.IsDegraded);
    }

    /// <summary>Successes first, then failures; a call the circuit rejects (the fleet opened meanwhile) is skipped.</summary>
    internal static void Mix(CircuitBreaker breaker, int successes, int failures)
    {
        for (int i = 0; i < successes; i++)
        {
            breaker.TrySucceed();
        }

        for (int i = 0; i < failures; i++)
        {
            breaker.Fail();
        }
    }
}
