#region package-redis
// packages: Tripswitch.Redis, Tripswitch.Hosting (an ASP.NET Core app)
#endregion

namespace Docs.Snippets.Packages;

internal static class Redis
{
    public static void Run(string[] args)
    {
        #region package-redis
        var builder = WebApplication.CreateBuilder(args);
        builder.Services.AddTripswitch(builder.Configuration.GetSection("Tripswitch"))
            .UseRedis("localhost:6379", o => o.KeyPrefix = "checkout:");
        #endregion
    }
}
