using StackExchange.Redis;
using Tripswitch.Redis.Tests.Infrastructure;
using Tripswitch.Testing.Redis;
using Xunit;

namespace Tripswitch.Redis.Tests;

/// <summary>
/// The fleet on a real three-master Redis Cluster: each circuit's keys share one hash slot (no CROSSSLOT), its scripts
/// run on the master that owns that slot, and changes reach every instance through the cluster-wide channel.
/// </summary>
public sealed class ClusterTests(SharedCluster redis) : IClassFixture<SharedCluster>
{
    private static CircuitBreakerOptions Options => new()
    {
        FailureThreshold = 2,
        RecoveryTimeout = TimeSpan.FromSeconds(30),
        SuccessThreshold = 1,
    };

    [Fact]
    public async Task TripsReachEveryInstance_ForCircuitsOnEveryMastersSlots()
    {
        await using Fleet fleet = await Fleet.StartAsync(redis.Cluster.Configuration, redis.Admin, 3, Options);
        string[] names = [.. Enumerable.Range(0, 24).Select(i => "svc/" + i)];
        AssertSpreadOverEveryMaster(fleet, names);

        CircuitBreaker[][] circuits = new CircuitBreaker[names.Length][];
        for (int c = 0; c < names.Length; c++)
        {
            circuits[c] = await fleet.JoinAsync(names[c]);
        }

        Task<long>[] opened = [.. circuits.SelectMany(breakers => breakers.Select(breaker => Eventually.StateChange(breaker, CircuitState.Open)))];
        for (int c = 0; c < names.Length; c++)
        {
            circuits[c][c % 3].Fail(Options.FailureThreshold); // trips on a different instance each time
        }

        await Task.WhenAll(opened.Select(task => task.Within("every circuit open on every instance")));
        for (int c = 0; c < names.Length; c++)
        {
            Assert.All(circuits[c], breaker => Assert.Equal(CircuitState.Open, breaker.Rejection()!.State));
            Assert.Equal(1, await fleet.Field(names[c], "st"));
        }

        Assert.All(fleet.Nodes, node => Assert.Empty(node.Scripts.Faulted)); // no CROSSSLOT, no MOVED left unhandled
        Assert.All(fleet.Nodes, node => Assert.False(node.Sharing.IsDegraded));
    }

    [Fact]
    public async Task InstancesRacingForProbes_RunAtMostHalfOpenMaxCallsProbes_OnEveryMaster()
    {
        const int MaxProbes = 2;
        var options = new CircuitBreakerOptions
        {
            FailureThreshold = 2,
            RecoveryTimeout = TimeSpan.FromMilliseconds(300),
            HalfOpenMaxCalls = MaxProbes,
            SuccessThreshold = MaxProbes,
        };
        await using Fleet fleet = await Fleet.StartAsync(redis.Cluster.Configuration, redis.Admin, 3, options);
        string[] names = OnePerMaster(fleet);

        foreach (string name in names)
        {
            CircuitBreaker[] breakers = await fleet.JoinAsync(name);
            breakers[0].Fail(options.FailureThreshold);
            await Eventually.True(() => breakers.All(breaker => breaker.State != CircuitState.Closed), $"'{name}' tripped everywhere");

            using var race = new ProbeRace(breakers, threadsPerInstance: 3);
            await Eventually.True(() => race.Started >= MaxProbes, $"'{name}': {MaxProbes} probes started");
            int[] before = [.. fleet.Nodes.Select(node => node.Scripts.Completed("Lease", fleet.HashKey(name)))];
            await Eventually.True(
                () => Enumerable.Range(0, 3).All(i => race.LocalProbes(i) >= MaxProbes || fleet[i].Scripts.Completed("Lease", fleet.HashKey(name)) - before[i] >= 3),
                $"'{name}': every other instance refused a lease three more times");

            Assert.Equal(MaxProbes, race.Started);
            Assert.Equal(0, race.GrantedWhileProbesHang);
            Assert.Equal(MaxProbes, await fleet.Admin.SortedSetLengthAsync(fleet.LeasesKey(name)));

            race.Release();
            await Eventually.True(() => breakers.All(breaker => breaker.State == CircuitState.Closed), $"'{name}' closed everywhere");
            Assert.True(race.MaxConcurrent <= MaxProbes, $"'{name}': {race.MaxConcurrent} probes ran at the same time");
        }

        Assert.All(fleet.Nodes, node => Assert.Empty(node.Scripts.Faulted));
    }

    [Fact]
    public async Task FleetWideWindows_TripOnEveryMaster_WithTheWindowInTheCircuitsOwnHash()
    {
        var options = new CircuitBreakerOptions
        {
            Rule = FailureRule.CountWindow,
            WindowSize = 100,
            MinimumThroughput = 20,
            FailureRatio = 0.5,
            RecoveryTimeout = TimeSpan.FromSeconds(30),
        };
        await using Fleet fleet = await Fleet.StartAsync(redis.Cluster.Configuration, redis.Admin, 3, options);
        string[] names = OnePerMaster(fleet);

        foreach (string name in names)
        {
            // 3 instances × 8 calls at 75 %: only the fleet's 24 calls reach the minimum throughput of 20.
            CircuitBreaker[] breakers = await fleet.JoinAsync(name);
            foreach (CircuitBreaker breaker in breakers)
            {
                FleetWindowTests.Mix(breaker, successes: 2, failures: 6);
            }

            await Eventually.True(() => breakers.All(breaker => breaker.State == CircuitState.Open), $"'{name}' opened by the fleet's window everywhere");
            Assert.True((await fleet.Window(name)).Calls >= 20, $"'{name}': the window is a field of the circuit's hash ({fleet.HashKey(name)}), in its slot");
        }

        Assert.All(fleet.Nodes, node => Assert.Empty(node.Scripts.Faulted)); // no CROSSSLOT
    }

    /// <summary>Asserts that the circuits' keys live on every master, and that each circuit's two keys share one slot.</summary>
    internal static void AssertSpreadOverEveryMaster(Fleet fleet, IEnumerable<string> names)
    {
        IConnectionMultiplexer connection = fleet.Admin.Multiplexer;
        var owners = new HashSet<string>(StringComparer.Ordinal);
        foreach (string name in names)
        {
            Assert.Equal(connection.HashSlot(fleet.HashKey(name)), connection.HashSlot(fleet.LeasesKey(name)));
            owners.Add(fleet.Admin.IdentifyEndpoint(fleet.HashKey(name))!.ToString()!);
        }

        Assert.Equal(3, owners.Count);
    }

    /// <summary>Three circuit names whose keys live on three different masters.</summary>
    internal static string[] OnePerMaster(Fleet fleet)
    {
        var byMaster = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; byMaster.Count < 3; i++)
        {
            string name = "probe/" + i;
            byMaster.TryAdd(fleet.Admin.IdentifyEndpoint(fleet.HashKey(name))!.ToString()!, name);
        }

        return [.. byMaster.Values];
    }
}
