using StackExchange.Redis;
using Xunit;

namespace Tripswitch.Testing.Redis;

/// <summary>
/// One three-master <see cref="RedisCluster"/> for the tests of a class that does not break it (tests stay independent
/// through unique key prefixes), plus an administration connection that routes each key to its master.
/// </summary>
public sealed class SharedCluster : IAsyncLifetime
{
    private RedisCluster? _cluster;
    private ConnectionMultiplexer? _admin;

    /// <summary>The cluster; skips (or, with TRIPSWITCH_REQUIRE_INTEGRATION=1, fails) the test when redis-server or redis-cli is missing.</summary>
    public RedisCluster Cluster
    {
        get
        {
            RedisCluster.RequireInstalled();
            return _cluster ?? throw new InvalidOperationException("The shared Redis Cluster did not start.");
        }
    }

    /// <summary>A cluster-aware connection for the tests' own commands.</summary>
    public IDatabase Admin
    {
        get
        {
            _ = Cluster;
            return _admin!.GetDatabase();
        }
    }

    /// <summary>Starts the server(s) when redis-server is installed.</summary>
    /// <returns>A task that completes when they answer.</returns>
    public async ValueTask InitializeAsync()
    {
        if (RedisServer.Executable is null || RedisCluster.Cli is null)
        {
            return; // each test reports the skip (or the failure) itself
        }

        _cluster = await RedisCluster.StartNewAsync();
        _admin = await ConnectionMultiplexer.ConnectAsync(_cluster.Configuration);
    }

    /// <summary>Stops the server(s).</summary>
    /// <returns>A task that completes when they are gone.</returns>
    public async ValueTask DisposeAsync()
    {
        if (_admin is not null)
        {
            await _admin.DisposeAsync();
        }

        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }
    }
}
