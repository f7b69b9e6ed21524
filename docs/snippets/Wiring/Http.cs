
namespace Docs.Snippets.Wiring;

internal static class Http
{
    public static void Run(WebApplicationBuilder builder)
    {
        #region readme-http
        builder.Services.AddTripswitch(builder.Configuration.GetSection("Tripswitch"));
        builder.Services.AddHttpClient("openai-gpt-4.1", c => c.BaseAddress = new Uri("https://api.openai.com/v1/"))
            .AddCircuitBreakerHandler(o =>
            {
                // The model is in the request body, not in the URL: one client per model, keyed like that model's circuit in
                // appsettings ("Circuits": { "openai/gpt-4.1": ... }). Without a KeySelector: one circuit per host[-port].
                o.KeySelector = _ => "openai/gpt-4.1";
                o.Timeout = TimeSpan.FromSeconds(30);       // a hung request counts as a failure (HttpClient.Timeout can't be seen from a handler)
                o.ReturnServiceUnavailableWhenOpen = false; // true: a synthesized 503 with Retry-After instead of CircuitOpenException
            });
        #endregion
    }
}
