#region readme-hosting
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
#endregion

namespace Docs.Snippets.Wiring;

internal static class Hosting
{
    public static void Run(WebApplicationBuilder builder)
    {
        #region readme-hosting
        builder.Services.AddTripswitch(builder.Configuration.GetSection("Tripswitch"))
            .ConfigureCircuit("openai/gpt-4.1", o => o.ShouldHandle = e => e is not ArgumentException); // delegates: code only
        builder.Services.AddHealthChecks().AddTripswitch(tags: ["ready"]);

        var app = builder.Build();
        // Readiness follows the circuits (take the instance out of rotation while a critical dependency is down);
        // liveness never does, so an open LLM circuit doesn't get the process restarted.
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = check => check.Tags.Contains("ready") });
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false });
        #endregion
    }
}
