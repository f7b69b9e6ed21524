
namespace Docs.Snippets.Packages;

internal static class Hosting
{
    public static void Run(WebApplicationBuilder builder)
    {
        #region package-hosting
        builder.Services.AddTripswitch(builder.Configuration.GetSection("Tripswitch"))
            .ConfigureCircuit("openai/gpt-4.1", o => o.ShouldHandle = ex => ex is HttpRequestException); // delegates: code only
        builder.Services.AddHttpClient("openai").AddCircuitBreakerHandler(); // uses the same registry, in either order
        builder.Services.AddHealthChecks().AddTripswitch(tags: ["ready"]);
        #endregion
    }
}
