#region readme-redis-cluster
using Tripswitch.Redis;
#endregion
using Tripswitch;

namespace Docs.Snippets.Wiring;

internal static class RedisCluster
{
    public static async Task Run(CircuitBreakerRegistry registry)
    {
        #region readme-redis-cluster
        await using RedisCircuitSharing sharing = await RedisCircuitSharing.ConnectAsync(
            registry, "redis-a:6379,redis-b:6379,redis-c:6379,password=…", new RedisCircuitOptions { KeyPrefix = "checkout:" });
        #endregion
    }
}
