using StackExchange.Redis;
using Tripswitch.Redis.Tests.Infrastructure;
using Tripswitch.Testing.Redis;
using Xunit;

namespace Tripswitch.Redis.Tests;

/// <summary>A master of the cluster dies: every instance goes on with its local rules; no store error reaches a caller.</summary>
[Collection(nameof(RedisOutage))]
public sealed class ClusterOutageTests
{
    [Fact]
    public async Task AKilledMaster_LeavesEveryInstanceOnLocalRules_WithNoExceptionReachingACaller()
    {
        // No replicas: once the others declare the master failed (after the node timeout) the whole cluster refuses
        // commands (cluster_state:fail), so every circuit of every instance must run on its local rules.
        await using RedisCluster cluster = await RedisCluster.StartNewAsync(nodeTimeout: TimeSpan.FromSeconds(1));
        await using ConnectionMultiplexer admin = await ConnectionMultiplexer.ConnectAsync(cluster.Configuration);
        var defaults = new CircuitBreakerOptions
        {
            FailureThreshold = 3,
            RecoveryTimeout = TimeSpan.FromMilliseconds(300),
            SuccessThreshold = 1,
        };
        string configuration = cluster.Configuration + ",connectTimeout=1000,asyncTimeout=1000,syncTimeout=1000";
        await using Fleet fleet = await Fleet.StartAsync(configuration, admin.GetDatabase(), 3, defaults, o => o.ResyncInterval = TimeSpan.FromMilliseconds(200));
        string[] names = ClusterTests.OnePerMaster(fleet);
        foreach (string name in names)
        {
            await fleet.JoinAsync(name);
        }

        // Callers on every instance and every circuit, all the time.
        await using var load = new CallerLoad(fleet.Nodes.SelectMany(node => names.Select(name => node[name + "/busy"])));
        await Eventually.True(() => load.Calls > 100, "calls flowing");

        await cluster.Masters[0].KillAsync();
        long callsAtKill = load.Calls;
        await cluster.WaitUntilFailedAsync();
        await Eventually.True(() => fleet.Nodes.All(node => node.Sharing.IsDegraded), "every instance degraded");

        // Every instance trips every circuit on its own rules, at once, whichever master held the circuit...
        for (int i = 0; i < fleet.Nodes.Count; i++)
        {
            CircuitBreaker breaker = fleet[i]["local/" + i];
            breaker.Fail(defaults.FailureThreshold);
            Assert.Equal(CircuitState.Open, breaker.Rejection()!.State);
        }

        // ... and runs a whole local cycle: open, half-open, a probe decided locally, closed.
        foreach (Node node in fleet.Nodes)
        {
            foreach (string name in names)
            {
                CircuitBreaker breaker = node[name];
                breaker.Fail(defaults.FailureThreshold);
                Assert.Equal(CircuitState.Open, breaker.Rejection()!.State);
            }
        }

        foreach (Node node in fleet.Nodes)
        {
            foreach (string name in names)
            {
                CircuitBreaker breaker = node[name];
                await Eventually.True(() => breaker.State == CircuitState.HalfOpen, $"'{name}' half-open locally");
                Assert.True(breaker.TrySucceed());
                Assert.Equal(CircuitState.Closed, breaker.State);
            }
        }

        await Eventually.True(() => load.Calls > callsAtKill + 300, "calls kept flowing with the master dead");
        await load.DisposeAsync();
        Assert.Empty(load.Unexpected); // every call ran or was rejected by the rules; no store error reached a caller
        Assert.Equal(0, load.Rejected); // the busy circuits stayed closed: nothing tripped them
    }

    [Fact]
    public async Task AKilledMaster_WhileTheOthersServe_ItsCircuitsRunLocally_AndTheOthersStayShared()
    {
        await using RedisCluster cluster = await RedisCluster.StartNewAsync(nodeTimeout: TimeSpan.FromSeconds(1), requireFullCoverage: false);
        await using ConnectionMultiplexer admin = await ConnectionMultiplexer.ConnectAsync(cluster.Configuration);
        var defaults = new CircuitBreakerOptions
        {
            FailureThreshold = 3,
            RecoveryTimeout = TimeSpan.FromMilliseconds(300),
            SuccessThreshold = 1,
        };
        string configuration = cluster.Configuration + ",connectTimeout=1000,asyncTimeout=1000,syncTimeout=1000";
        await using Fleet fleet = await Fleet.StartAsync(configuration, admin.GetDatabase(), 3, defaults, o => o.ResyncInterval = TimeSpan.FromMilliseconds(100));
        string[] names = ClusterTests.OnePerMaster(fleet);
        string dead = names.Single(name => fleet.Admin.IdentifyEndpoint(fleet.HashKey(name))!.ToString() == cluster.Masters[0].Endpoint);
        string alive = names.First(name => name != dead);
        CircuitBreaker[] deadCircuit = await fleet.JoinAsync(dead);
        CircuitBreaker[] aliveCircuit = await fleet.JoinAsync(alive);

        await cluster.Masters[0].KillAsync();
        await Eventually.True(() => fleet.Nodes.All(node => node.Scripts.Faulted.Any(call => call.Key == fleet.HashKey(dead))), "every instance's resync of the dead master's circuit failed");

        // The dead master's circuit: a local trip, then a whole local cycle decided without leases.
        deadCircuit[0].Fail(defaults.FailureThreshold);
        Assert.Equal(CircuitState.Open, deadCircuit[0].Rejection()!.State);
        await Eventually.True(() => deadCircuit[0].State == CircuitState.HalfOpen, "half-open locally");
        Assert.True(deadCircuit[0].TrySucceed(), "the probe runs on the local rules, although other circuits' scripts succeed");
        Assert.Equal(CircuitState.Closed, deadCircuit[0].State);

        // A circuit on a live master is still one circuit for the fleet.
        Task<long>[] opened = [.. aliveCircuit.Select(breaker => Eventually.StateChange(breaker, CircuitState.Open))];
        aliveCircuit[1].Fail(defaults.FailureThreshold);
        await Task.WhenAll(opened.Select(task => task.Within("the live master's circuit opens on every instance")));
        Assert.All(aliveCircuit, breaker => Assert.Equal(CircuitState.Open, breaker.Rejection()!.State));
    }
}
