using StackExchange.Redis;
using Xunit;

namespace Tripswitch.Testing.Redis;

/// <summary>
/// One redis-server for every test that does not need its own (tests stay independent through unique key prefixes),
/// plus an administration connection to inspect and tamper with the keys.
/// </summary>
public sealed class SharedRedis : IAsyncLifetime
{
    private RedisServer? _server;
    private ConnectionMultiplexer? _admin;

    /// <summary>The server; skips (or, with TRIPSWITCH_REQUIRE_INTEGRATION=1, fails) the test when redis-server is not installed.</summary>
    public RedisServer Server
    {
        get
        {
            RedisServer.RequireInstalled();
            return _server ?? throw new InvalidOperationException("The shared redis-server did not start.");
        }
    }

    /// <summary>A plain connection to <see cref="Server"/> for the tests' own commands.</summary>
    public IDatabase Admin
    {
        get
        {
            _ = Server;
            return _admin!.GetDatabase();
        }
    }

    /// <summary>Starts the server(s) when redis-server is installed.</summary>
    /// <returns>A task that completes when they answer.</returns>
    public async ValueTask InitializeAsync()
    {
        if (RedisServer.Executable is null)
        {
            return; // each test reports the skip (or the failure) itself
        }

        _server = await RedisServer.StartNewAsync();
        _admin = await ConnectionMultiplexer.ConnectAsync(_server.Configuration);
    }

    /// <summary>Stops the server(s).</summary>
    /// <returns>A task that completes when they are gone.</returns>
    public async ValueTask DisposeAsync()
    {
        if (_admin is not null)
        {
            await _admin.DisposeAsync();
        }

        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
