
namespace Docs.Snippets.Packages;

internal static class Http
{
    public static void Run(WebApplicationBuilder builder)
    {
        #region package-http
        builder.Services.AddTripswitch(builder.Configuration.GetSection("Tripswitch"));
        builder.Services.AddHttpClient("inventory", c => c.BaseAddress = new Uri("https://inventory.example.test/"))
            .AddCircuitBreakerHandler(o => o.Timeout = TimeSpan.FromSeconds(10));
        #endregion
    }
}
