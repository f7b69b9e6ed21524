#region readme-opentelemetry
using OpenTelemetry.Metrics;
using Tripswitch;
#endregion

namespace Docs.Snippets.Wiring;

internal static class OpenTelemetrySetup
{
    public static void Run(string[] args)
    {
        #region readme-opentelemetry
        var builder = WebApplication.CreateBuilder(args);
        builder.Services.AddTripswitch();
        builder.Services.AddOpenTelemetry()
            .WithMetrics(metrics => metrics
                .AddMeter("Tripswitch")
                .AddOtlpExporter());

        var app = builder.Build();
        app.MapGet("/", (CircuitBreakerRegistry circuits) => circuits.Execute("inventory", () => "ok"));
        app.Run();
        #endregion
    }
}
