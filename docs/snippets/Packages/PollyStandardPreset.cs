#region package-polly-standard-preset
using Microsoft.Extensions.Http.Resilience;
#endregion

namespace Docs.Snippets.Packages;

internal static class PollyStandardPreset
{
    public static void Run(WebApplicationBuilder builder)
    {
        #region package-polly-standard-preset
        builder.Services.AddTripswitch(builder.Configuration.GetSection("Tripswitch")); // "Circuits": { "api.openai.com": { ... } }
        builder.Services.AddHttpClient("openai", c => c.BaseAddress = new Uri("https://api.openai.com/v1/"))
            .AddStandardResilienceHandlerWithTripswitch() // (tripswitch => ...) changes the presets, sets OnOpened ...
            .Configure(builder.Configuration.GetSection("Http:openai")); // HttpStandardResilienceOptions: rate limiter, retry, timeouts
        #endregion
    }
}
