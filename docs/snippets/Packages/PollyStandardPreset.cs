#region package-polly-standard-preset
// packages: Tripswitch.Polly, Tripswitch.Hosting, Microsoft.Extensions.Http.Resilience (an ASP.NET Core app)
using Microsoft.Extensions.Http.Resilience;
#endregion

namespace Docs.Snippets.Packages;

internal static class PollyStandardPreset
{
    public static void Run(string[] args)
    {
        #region package-polly-standard-preset
        var builder = WebApplication.CreateBuilder(args);
        builder.Services.AddTripswitch(builder.Configuration.GetSection("Tripswitch")); // "Circuits": { "api.openai.com": { ... } }
        builder.Services.AddHttpClient("openai", c => c.BaseAddress = new Uri("https://api.openai.com/v1/"))
            .AddStandardResilienceHandlerWithTripswitch() // (tripswitch => ...) changes the presets, sets OnOpened ...
            .Configure(builder.Configuration.GetSection("Http:openai")); // HttpStandardResilienceOptions: rate limiter, retry, timeouts
        #endregion
    }
}
