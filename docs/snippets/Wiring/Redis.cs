#region readme-redis
using Tripswitch.Redis;
#endregion
using Tripswitch;

namespace Docs.Snippets.Wiring;

internal static class Redis
{
    public static async Task Run(CircuitBreakerRegistryOptions options)
    {
        #region readme-redis
        var registry = new CircuitBreakerRegistry(options);
        await using RedisCircuitSharing sharing = await RedisCircuitSharing.ConnectAsync(
            registry, "redis.internal:6380,password=…,ssl=true", new RedisCircuitOptions { KeyPrefix = "checkout:" });
        // or with DI: services.AddTripswitch(config).UseRedis("redis.internal:6380,password=…")
        #endregion
    }
}
