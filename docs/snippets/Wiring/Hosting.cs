
namespace Docs.Snippets.Wiring;

internal static class Hosting
{
    public static void Run(WebApplicationBuilder builder)
    {
        #region readme-hosting
        builder.Services.AddTripswitch(builder.Configuration.GetSection("Tripswitch"))
            .ConfigureCircuit("openai/gpt-4.1", o => o.ShouldHandle = e => e is not ArgumentException); // delegates: code only
        builder.Services.AddHealthChecks().AddTripswitch();
        #endregion
    }
}
