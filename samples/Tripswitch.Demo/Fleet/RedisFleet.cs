using StackExchange.Redis;
using Tripswitch.Redis;

namespace Tripswitch.Demo;

/// <summary>A registry's circuits shared through Redis with every process that uses the same key prefix.</summary>
internal sealed class RedisFleet : IAsyncDisposable
{
    private readonly ConnectionMultiplexer _connection;
    private readonly RedisCircuitSharing _sharing;

    private RedisFleet(ConnectionMultiplexer connection, RedisCircuitSharing sharing)
    {
        _connection = connection;
        _sharing = sharing;
    }

    /// <summary>
    /// Connects, failing fast when Redis doesn't answer (the library itself would start anyway and run on local rules,
    /// which is right for a service but would make a fleet demo show nothing), then shares the registry's circuits.
    /// </summary>
    /// <exception cref="RedisConnectionException">Redis did not answer.</exception>
    public static async Task<RedisFleet> ConnectAsync(string configuration, string keyPrefix, CircuitBreakerRegistry registry)
    {
        ConfigurationOptions options = ConfigurationOptions.Parse(configuration);
        options.AbortOnConnectFail = true;
        options.ConnectTimeout = 5000;
        options.ConnectRetry = 1;
        ConnectionMultiplexer connection = await ConnectionMultiplexer.ConnectAsync(options);
        try
        {
            await connection.GetDatabase().PingAsync();
            RedisCircuitSharing sharing = RedisCircuitSharing.Attach(registry, connection, new RedisCircuitOptions
            {
                KeyPrefix = keyPrefix,
                KeyExpiry = TimeSpan.FromMinutes(10), // a demo's keys don't need to outlive it by much
            });
            return new RedisFleet(connection, sharing);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _sharing.DisposeAsync();
        await _connection.DisposeAsync();
    }
}
