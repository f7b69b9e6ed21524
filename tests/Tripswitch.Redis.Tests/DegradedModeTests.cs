using System.Collections.Concurrent;
using StackExchange.Redis;
using Tripswitch.Redis.Tests.Infrastructure;
using Tripswitch.Testing.Redis;
using Tripswitch.Testing;
using Xunit;

namespace Tripswitch.Redis.Tests;

/// <summary>Tests that kill and restart their own redis-server and read the process-wide error counter: run alone.</summary>
[CollectionDefinition(nameof(RedisOutage), DisableParallelization = true)]
public sealed class RedisOutage;

/// <summary>When Redis goes away, every instance goes on with its local rules; no store error reaches a caller.</summary>
[Collection(nameof(RedisOutage))]
public sealed class DegradedModeTests
{
    /// <summary>How long StackExchange.Redis may take to notice the server is back and reconnect.</summary>
    private static readonly TimeSpan Reconnect = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task KillingRedisMidRun_LeavesCallersOnLocalRules_AndTheFleetCatchesUpAfterTheRestart()
    {
        await using RedisServer server = await RedisServer.StartNewAsync();
        using var errors = new RedisErrorCounter();
        var registryOptions = new CircuitBreakerRegistryOptions
        {
            Defaults = new CircuitBreakerOptions { FailureThreshold = 3, RecoveryTimeout = TimeSpan.FromSeconds(60), SuccessThreshold = 1 },
        }.Configure("probing", o =>
        {
            o.FailureThreshold = 1;
            o.RecoveryTimeout = TimeSpan.FromMilliseconds(200);
        });
        var options = new RedisCircuitOptions
        {
            KeyPrefix = Fleet.UniquePrefix(),
            ReportInterval = TimeSpan.FromMilliseconds(50),
            ResyncInterval = TimeSpan.FromMilliseconds(200),
        };
        var registryA = new CircuitBreakerRegistry(registryOptions);
        var registryB = new CircuitBreakerRegistry(registryOptions);
        await using RedisCircuitSharing a = await RedisCircuitSharing.ConnectAsync(registryA, server.Configuration, options);
        await using RedisCircuitSharing b = await RedisCircuitSharing.ConnectAsync(registryB, server.Configuration, options);
        await using ConnectionMultiplexer admin = await ConnectionMultiplexer.ConnectAsync(server.Configuration + ",abortConnect=false");
        IDatabase db = admin.GetDatabase();
        string sharedKey = Fleet.LayoutHash(options.KeyPrefix, "shared");

        CircuitBreaker aShared = registryA.Get("shared");
        CircuitBreaker bShared = registryB.Get("shared");
        CircuitBreaker aProbing = registryA.Get("probing");
        await Eventually.True(async () => (long)(await db.ExecuteAsync("PUBSUB", "NUMSUB", options.KeyPrefix + "events"))[1] == 2, "both instances subscribed");
        await Eventually.True(async () => await db.KeyExistsAsync(sharedKey), "the shared circuit exists in Redis");

        // Callers on both instances, all the time (A's "shared" is left to the failures below).
        await using var load = new CallerLoad([bShared, registryA.Get("steady"), registryB.Get("steady")]);
        await Eventually.True(() => load.Calls > 100, "calls flowing");
        Assert.False(a.IsDegraded || b.IsDegraded);
        long errorsBefore = errors.Total;

        await server.KillAsync();
        long callsAtKill = load.Calls;
        await Eventually.True(() => a.IsDegraded && b.IsDegraded, "both instances degraded");
        await Eventually.True(() => errors.Total > errorsBefore, "tripswitch.redis.errors counted");

        // The local rules keep protecting: a local trip opens A's circuit at once (B cannot hear of it now)...
        aShared.Fail(3);
        Assert.Equal(CircuitState.Open, aShared.Rejection()!.State);
        Assert.Equal(CircuitState.Closed, bShared.State);

        // ... and a whole local cycle works: open, half-open, a probe decided locally, closed.
        aProbing.Fail(1);
        await Eventually.True(() => aProbing.State == CircuitState.HalfOpen, "local half-open");
        Assert.True(aProbing.TrySucceed());
        Assert.Equal(CircuitState.Closed, aProbing.State);
        await Eventually.True(() => load.Calls > callsAtKill + 200, "calls kept flowing while Redis was down");

        // Redis comes back (empty) on the same port: both leave degraded mode, and A tells the fleet of its trip.
        Task<long> bOpened = Eventually.StateChange(bShared, CircuitState.Open);
        await server.StartAsync();
        await Eventually.True(() => !a.IsDegraded && !b.IsDegraded, "both instances recovered", Reconnect);
        await bOpened.Within("A's trip reaches B after the restart");
        Assert.Equal(CircuitState.Open, bShared.Rejection()!.State);
        Assert.Equal("1", (string?)await db.HashGetAsync(sharedKey, "st"));
        Assert.DoesNotContain(aShared.GetSummary().Transitions, t => t.To != CircuitState.Open); // A stayed open throughout

        await load.DisposeAsync();
        Assert.Empty(load.Unexpected); // every call ran or was rejected by the rules; no store error reached a caller
        Assert.True(load.Rejected > 0, "B's callers were rejected once the fleet's circuit opened");
    }

    [Fact]
    public async Task ARedisThatIsDownAtStart_IsNotAnError_AndIsJoinedWhenItComesUp()
    {
        RedisServer server = RedisServer.Create(); // nothing listens on its port yet
        await using (server)
        {
            var defaults = new CircuitBreakerOptions { FailureThreshold = 2, RecoveryTimeout = TimeSpan.FromSeconds(60) };
            var options = new RedisCircuitOptions { KeyPrefix = Fleet.UniquePrefix(), ResyncInterval = TimeSpan.FromMilliseconds(200) };
            var registryA = new CircuitBreakerRegistry(defaults);
            var registryB = new CircuitBreakerRegistry(defaults);
            // StackExchange.Redis's defaults would make ConnectAsync wait 5 s, and IsDegraded turn true after 5 more.
            string configuration = server.Configuration + ",connectTimeout=1000,syncTimeout=1000,asyncTimeout=1000";
            await using RedisCircuitSharing a = await RedisCircuitSharing.ConnectAsync(registryA, configuration, options);
            await using RedisCircuitSharing b = await RedisCircuitSharing.ConnectAsync(registryB, configuration, options);
            CircuitBreaker aBreaker = registryA.Get("late");
            CircuitBreaker bBreaker = registryB.Get("late");

            Assert.True(aBreaker.TrySucceed());
            await Eventually.True(() => a.IsDegraded, "degraded while Redis is down");

            await server.StartAsync();
            await Eventually.True(() => !a.IsDegraded && !b.IsDegraded, "joined once Redis is up", Reconnect);
            await using ConnectionMultiplexer admin = await ConnectionMultiplexer.ConnectAsync(server.Configuration);
            await Eventually.True(async () => (long)(await admin.GetDatabase().ExecuteAsync("PUBSUB", "NUMSUB", options.KeyPrefix + "events"))[1] == 2, "both subscribed", Reconnect);

            Task<long> bOpened = Eventually.StateChange(bBreaker, CircuitState.Open);
            aBreaker.Fail(2);
            await bOpened.Within("the circuit is shared now");
        }
    }
}

/// <summary>Callers calling all the time (sync and async), counting what they see by type.</summary>
internal sealed class CallerLoad : IAsyncDisposable
{
    private static readonly TimeSpan Pace = TimeSpan.FromMilliseconds(1);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task[] _loops;
    private readonly ConcurrentDictionary<string, int> _unexpected = new(StringComparer.Ordinal);
    private long _calls;
    private long _rejected;

    public CallerLoad(IEnumerable<CircuitBreaker> breakers)
        => _loops = [.. breakers.Select(breaker => Task.Run(() => LoopAsync(breaker)))];

    public long Calls => Interlocked.Read(ref _calls);

    public long Rejected => Interlocked.Read(ref _rejected);

    /// <summary>Exceptions other than <see cref="CircuitOpenException"/>, by type.</summary>
    public IReadOnlyDictionary<string, int> Unexpected => _unexpected;

    private async Task LoopAsync(CircuitBreaker breaker)
    {
        bool async = false;
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                if (async)
                {
                    await breaker.ExecuteAsync(static _ => ValueTask.CompletedTask, _stop.Token);
                }
                else
                {
                    breaker.Execute(static () => { });
                }
            }
            catch (CircuitOpenException)
            {
                Interlocked.Increment(ref _rejected);
            }
            catch (Exception ex)
            {
                _unexpected.AddOrUpdate(ex.GetType().FullName!, 1, static (_, n) => n + 1);
            }

            async = !async;
            Interlocked.Increment(ref _calls);
            try
            {
                await Task.Delay(Pace, _stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested)
        {
            await _stop.CancelAsync();
            await Task.WhenAll(_loops).Within("the load loops to stop");
        }
    }
}
