#region package-http
// packages: Tripswitch.Http, Tripswitch.Hosting (an ASP.NET Core app)
#endregion

namespace Docs.Snippets.Packages;

internal static class Http
{
    public static void Run(string[] args)
    {
        #region package-http
        var builder = WebApplication.CreateBuilder(args);
        builder.Services.AddTripswitch(builder.Configuration.GetSection("Tripswitch"));
        builder.Services.AddHttpClient("inventory", c => c.BaseAddress = new Uri("https://inventory.example.test/"))
            .AddCircuitBreakerHandler(o => o.Timeout = TimeSpan.FromSeconds(10));
        #endregion
    }
}
