
namespace Docs.Snippets.Packages;

internal static class Redis
{
    public static void Run(WebApplicationBuilder builder)
    {
        #region package-redis
        builder.Services.AddTripswitch(builder.Configuration.GetSection("Tripswitch"))
            .UseRedis("localhost:6379", o => o.KeyPrefix = "checkout:");
        #endregion
    }
}
