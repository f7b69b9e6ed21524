using Tripswitch.Redis.Tests.Infrastructure;
using Tripswitch.Testing.Redis;
using Xunit;

namespace Tripswitch.Redis.Tests;

/// <summary>Operators' decisions and servers' "retry after" hints hold for the whole fleet.</summary>
public sealed class OperatorAndHintTests(SharedRedis redis)
{
    private static readonly TimeSpan Hint = TimeSpan.FromSeconds(5);

    /// <summary>What may have passed of the hinted period by the time the test looks (the plain period is 300 ms).</summary>
    private static readonly TimeSpan Elapsed = TimeSpan.FromSeconds(2);

    private static CircuitBreakerOptions Options => new()
    {
        FailureThreshold = 1,
        RecoveryTimeout = TimeSpan.FromMilliseconds(300),
        SuccessThreshold = 1,
    };

    [Fact]
    public async Task IsolatingOnOneInstance_IsolatesEveryInstance_AndAResetClosesThemAll()
    {
        await using Fleet fleet = await Fleet.StartAsync(redis.Server, redis.Admin, 3, Options);
        CircuitBreaker[] breakers = await fleet.JoinAsync("isolated");

        Task<long>[] isolated = [.. breakers.Skip(1).Select(breaker => Eventually.StateChange(breaker, CircuitState.Isolated))];
        breakers[0].Isolate();
        await Task.WhenAll(isolated.Select(task => task.Within("isolated everywhere")));
        Assert.All(breakers, breaker => Assert.Equal(CircuitState.Isolated, breaker.Rejection()!.State));
        Assert.Equal(3, await fleet.Field("isolated", "st"));

        Task<long>[] closed = [.. breakers.Take(2).Select(breaker => Eventually.StateChange(breaker, CircuitState.Closed))];
        breakers[2].Reset();
        await Task.WhenAll(closed.Select(task => task.Within("closed everywhere")));
        Assert.All(breakers, breaker => Assert.True(breaker.TrySucceed()));
    }

    [Fact]
    public async Task ARetryAfterHintOnTheTrippingFailure_KeepsTheWholeFleetOpenThatLong()
    {
        await using Fleet fleet = await Fleet.StartAsync(redis.Server, redis.Admin, 2, Options, o => o.ResyncInterval = TimeSpan.FromMilliseconds(100));
        CircuitBreaker[] breakers = await fleet.JoinAsync("hinted-trip");
        (CircuitBreaker a, CircuitBreaker b) = (breakers[0], breakers[1]);

        // A 429 that says "come back in 5 s" trips the circuit (RecoveryTimeout is 300 ms).
        Task<long> bOpened = Eventually.StateChange(b, CircuitState.Open);
        a.AcquirePermit().RecordFailure(new SimulatedFailureException("429"), Hint);
        await bOpened.Within("B Open");
        await Eventually.True(() => fleet[0].Scripts.Of("Trip").Any(call => call.IsCompleted), "A's trip acknowledged");
        await Eventually.True(() => fleet[0].Scripts.Calls.Any(call => call.IsCompleted && call.StartedAt > fleet[0].Scripts.Of("Trip").First().CompletedAt), "A applied the answer");

        // Both keep the hinted period: B learnt it from Redis, and Redis's answer did not shorten A's.
        Assert.InRange(b.Rejection()!.RetryAfter, Hint - Elapsed, Hint);
        Assert.InRange(a.Rejection()!.RetryAfter, Hint - Elapsed, Hint);
        Assert.InRange((await fleet.Field("hinted-trip", "until"))!.Value - await fleet.Admin.ServerTimeMs(), (long)(Hint - Elapsed).TotalMilliseconds, (long)Hint.TotalMilliseconds);
    }

    [Fact]
    public async Task ARetryAfterHintWhileOpen_ExtendsTheWholeFleetsOpenPeriod()
    {
        await using Fleet fleet = await Fleet.StartAsync(redis.Server, redis.Admin, 2, Options);
        CircuitBreaker[] breakers = await fleet.JoinAsync("hinted-open");
        (CircuitBreaker a, CircuitBreaker b) = (breakers[0], breakers[1]);

        // Two calls start while closed; the first one's failure trips the circuit, then the second one answers
        // "retry after 5 s": too late to count, but the hint extends the open period — for everyone.
        CircuitPermit first = a.AcquirePermit();
        CircuitPermit second = a.AcquirePermit();
        Task<long> bOpened = Eventually.StateChange(b, CircuitState.Open);
        first.RecordFailure(new SimulatedFailureException());
        await bOpened.Within("B Open");
        Assert.True(b.Rejection()!.RetryAfter <= Options.RecoveryTimeout);

        second.RecordFailure(new SimulatedFailureException("429"), Hint);
        await Eventually.True(() => b.Rejection() is { } rejected && rejected.RetryAfter > TimeSpan.FromSeconds(1), "B's open period extended");
        Assert.InRange(b.Rejection()!.RetryAfter, Hint - Elapsed, Hint);
        Assert.InRange(a.Rejection()!.RetryAfter, Hint - Elapsed, Hint);
    }
}
