#region package-redis-without-di
// packages: Tripswitch.Redis
using Tripswitch;
using Tripswitch.Redis;
#endregion

namespace Docs.Snippets.Packages;

internal static class RedisWithoutDI
{
    public static async Task Run()
    {
        #region package-redis-without-di
        var registry = new CircuitBreakerRegistry();
        await using RedisCircuitSharing sharing = await RedisCircuitSharing.ConnectAsync(registry, "localhost:6379"); // until the process stops
        string answer = await registry.ExecuteAsync("inventory", async ct => await Task.FromResult("in stock"));
        #endregion
    }
}
