using Tripswitch.Http;

namespace Docs.Snippets.Wiring;

internal static class HttpConfiguration
{
    public static void Run(WebApplicationBuilder builder)
    {
        #region readme-http-configuration
        // appsettings.json: "Http": { "billing": { "Timeout": "00:00:10", "ReturnServiceUnavailableWhenOpen": true } }
        builder.Services.AddHttpClient("billing", c => c.BaseAddress = new Uri("https://billing.example.test/"))
            .AddCircuitBreakerHandler(builder.Configuration.GetSection("Http:billing"));
        builder.Services.Configure<CircuitBreakerHandlerOptions>("billing", o => o.KeySelector = _ => "billing"); // delegates: code
        #endregion
    }
}
