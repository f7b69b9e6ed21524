using StackExchange.Redis;
using Tripswitch.Redis.Tests.Infrastructure;
using Tripswitch.Testing.Redis;
using Xunit;

namespace Tripswitch.Redis.Tests;

/// <summary>
/// The fleet opens for the period the circuit's own break-duration policy computes (backoff, jitter, generator, hint,
/// caps) on the instance whose failure trips it or fails a probe; every other instance follows that period. Remote state
/// is applied only when it is newer than what the instance knows.
/// </summary>
public sealed class FleetRecoveryPolicyTests(SharedRedis redis)
{
    /// <summary>What may pass between a period's start and the test's look at it on a busy machine.</summary>
    private static readonly TimeSpan Slack = TimeSpan.FromSeconds(1.5);

    [Fact]
    public async Task ABreakDurationGenerator_SetsTheOpenPeriod_OnAnInstanceThatDidNotComputeIt()
    {
        TimeSpan generated = TimeSpan.FromSeconds(4);
        var options = new CircuitBreakerOptions
        {
            FailureThreshold = 2,
            RecoveryTimeout = TimeSpan.FromSeconds(1),
            BreakDurationGenerator = _ => generated,
        };
        await using Fleet fleet = await Fleet.StartAsync(redis.Server, redis.Admin, 3, options);
        CircuitBreaker[] breakers = await fleet.JoinAsync("generated");

        // One failure on A, one on B: neither trips on its own; the fleet's count does, when B's report arrives.
        breakers[0].Fail(1);
        await Eventually.True(async () => await fleet.Field("generated", "cf") == 1, "A's failure reported");
        Task<long>[] opened = [.. breakers.Select(breaker => Eventually.StateChange(breaker, CircuitState.Open))];
        breakers[1].Fail(1);
        await Task.WhenAll(opened.Select(task => task.Within("every instance Open")));

        // C computed nothing: it follows the 4 s the reporting instance's generator gave (RecoveryTimeout is 1 s).
        Assert.InRange(breakers[2].Rejection()!.RetryAfter, generated - Slack, generated);
        Assert.All(breakers, breaker => Assert.InRange(breaker.Rejection()!.RetryAfter, generated - Slack, generated));
    }

    [Fact]
    public async Task ABackoffMultiplierAndAGenerator_SetTheReopenedPeriod_OnAnInstanceThatDidNotComputeIt()
    {
        var options = new CircuitBreakerOptions
        {
            FailureThreshold = 2,
            RecoveryTimeout = TimeSpan.FromMilliseconds(500),
            RecoveryBackoffMultiplier = 2, // the second opening: 1 s by the backoff...
            BreakDurationGenerator = args => args.ComputedDuration * 4, // ... which the generator makes 4 s
            MaxRecoveryTimeout = TimeSpan.FromSeconds(30),
            SuccessThreshold = 1,
        };
        TimeSpan reopened = TimeSpan.FromSeconds(4);
        await using Fleet fleet = await Fleet.StartAsync(redis.Server, redis.Admin, 2, options);
        CircuitBreaker[] breakers = await fleet.JoinAsync("backoff");
        (CircuitBreaker a, CircuitBreaker b) = (breakers[0], breakers[1]);

        Task<long> bOpened = Eventually.StateChange(b, CircuitState.Open);
        a.Fail(2);
        await bOpened.Within("B Open");
        Assert.InRange(b.Rejection()!.RetryAfter, TimeSpan.FromSeconds(2) - Slack, TimeSpan.FromSeconds(2)); // 500 ms × 4 by the generator

        // A's probe fails: the fleet reopens for A's second attempt, 500 ms × 2 (backoff) × 4 (generator).
        CircuitPermit probe = default;
        await Eventually.True(() => a.TryAcquirePermit(out probe, out _) && probe.IsProbe, "A holds a probe");
        Task<long> bReopened = Eventually.StateChange(b, CircuitState.Open);
        probe.RecordFailure(new SimulatedFailureException());
        await bReopened.Within("B reopened");
        Assert.InRange(b.Rejection()!.RetryAfter, reopened - Slack, reopened);
        Assert.InRange(a.Rejection()!.RetryAfter, reopened - Slack, reopened);
        Assert.Equal(2, await fleet.Field("backoff", "att"));
    }

    [Fact]
    public async Task AHintOnTheFailureThatCompletesTheFleetsCount_HoldsFleetWide()
    {
        TimeSpan hint = TimeSpan.FromSeconds(5);
        var options = new CircuitBreakerOptions
        {
            FailureThreshold = 3,
            RecoveryTimeout = TimeSpan.FromSeconds(1),
        };
        await using Fleet fleet = await Fleet.StartAsync(redis.Server, redis.Admin, 3, options);
        CircuitBreaker[] breakers = await fleet.JoinAsync("hint-completes");

        breakers[0].Fail(2);
        await Eventually.True(async () => await fleet.Field("hint-completes", "cf") == 2, "A's two failures reported");

        // B's single failure says "retry after 5 s": it trips nothing locally (1 of 3), but completes the fleet's count.
        Task<long>[] opened = [.. breakers.Select(breaker => Eventually.StateChange(breaker, CircuitState.Open))];
        breakers[1].AcquirePermit().RecordFailure(new SimulatedFailureException("429"), hint);
        await Task.WhenAll(opened.Select(task => task.Within("every instance Open")));

        Assert.All(breakers, breaker => Assert.InRange(breaker.Rejection()!.RetryAfter, hint - Slack, hint));
        long untilMs = (await fleet.Field("hint-completes", "until"))!.Value - await fleet.Admin.ServerTimeMs();
        Assert.InRange(untilMs, (long)(hint - Slack).TotalMilliseconds, (long)hint.TotalMilliseconds);
    }

    [Fact]
    public async Task FiftyNewCircuits_TrippingOnTheirFirstCalls_WhileTheirJoinReadsAreAnswered_AllStayOpen()
    {
        const int Circuits = 50;
        var options = new CircuitBreakerOptions { FailureThreshold = 2, RecoveryTimeout = TimeSpan.FromSeconds(30) };
        await using Fleet fleet = await Fleet.StartAsync(redis.Server, redis.Admin, 2, options, o => o.ResyncInterval = TimeSpan.FromMinutes(10));
        ScriptMonitor scripts = fleet[0].Scripts;

        // Each join read runs on the server at once (it reads "closed, generation 0"), but its answer arrives only after
        // the circuit tripped; the trip's own answer waits until the late join answers were handled.
        var joinAnswers = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var tripAnswers = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        scripts.Intercept = call => call.Script switch
        {
            "Get" => AnswerAfter(call.Proceed(), joinAnswers.Task),
            "Trip" or "Report" => AnswerAfter(call.Proceed(), tripAnswers.Task),
            _ => null,
        };

        CircuitBreaker[] breakers = [.. Enumerable.Range(0, Circuits).Select(i => fleet[0]["new/" + i])];
        await Eventually.True(() => scripts.Of("Get").Count() >= Circuits, "every join read sent");
        foreach (CircuitBreaker breaker in breakers)
        {
            breaker.Fail(options.FailureThreshold);
        }

        await Eventually.True(() => scripts.Of("Trip").Count() >= Circuits, "every trip sent");
        joinAnswers.SetResult();
        await Eventually.True(() => scripts.Of("Get").All(call => call.IsCompleted), "every join read answered");
        tripAnswers.SetResult();
        await Eventually.True(() => scripts.Of("Trip").All(call => call.IsCompleted), "every trip answered");

        // Redis has every trip; this instance never flapped back to Closed, and rejects every call.
        foreach (CircuitBreaker breaker in breakers)
        {
            await Eventually.True(async () => await fleet.Field(breaker.Name, "st") == 1, $"'{breaker.Name}' open in Redis");
            Assert.Equal(new[] { CircuitState.Open }, breaker.GetSummary().Transitions.Select(t => t.To));
            Assert.Equal(CircuitState.Open, breaker.Rejection()!.State);
        }

    }

    private static async Task<RedisResult> AnswerAfter(Task<RedisResult> answer, Task gate)
    {
        RedisResult result = await answer;
        await gate;
        return result;
    }
}
