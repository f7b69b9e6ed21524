#region package-hosting
// packages: Tripswitch.Hosting, Tripswitch.Http (an ASP.NET Core app)
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
#endregion

namespace Docs.Snippets.Packages;

internal static class Hosting
{
    public static void Run(string[] args)
    {
        #region package-hosting
        var builder = WebApplication.CreateBuilder(args);
        builder.Services.AddTripswitch(builder.Configuration.GetSection("Tripswitch"))
            .ConfigureCircuit("openai/gpt-4.1", o => o.ShouldHandle = ex => ex is HttpRequestException); // delegates: code only
        builder.Services.AddHttpClient("openai").AddCircuitBreakerHandler(); // uses the same registry, in either order
        builder.Services.AddHealthChecks().AddTripswitch(tags: ["ready"]);

        var app = builder.Build();
        // Readiness follows the circuits; liveness never does (an open circuit must not get the process restarted).
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = check => check.Tags.Contains("ready") });
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false });
        app.Run();
        #endregion
    }
}
