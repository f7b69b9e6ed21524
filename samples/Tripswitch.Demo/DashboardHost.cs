using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Tripswitch.Demo;

/// <summary>Tripswitch.Dashboard for the demo's registry, on its own Kestrel on 127.0.0.1 (an ephemeral port), logging nothing.</summary>
internal sealed class DashboardHost : IAsyncDisposable
{
    public const string Pattern = "/tripswitch";

    private readonly WebApplication _app;

    private DashboardHost(WebApplication app, Uri url)
    {
        _app = app;
        Url = url;
    }

    /// <summary>The page, like <c>http://127.0.0.1:41234/tripswitch</c>; its JSON is at <c>/tripswitch/status</c>.</summary>
    public Uri Url { get; }

    public static async Task<DashboardHost> StartAsync(CircuitBreakerRegistry registry, CancellationToken cancellationToken)
    {
        // The empty builder reads no configuration and registers no logging provider: nothing disturbs the live view.
        WebApplicationBuilder builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(IPAddress.Loopback, 0);
        });
        builder.Services.AddRoutingCore();
        builder.Services.Configure<HostOptions>(options => options.ShutdownTimeout = TimeSpan.FromSeconds(2));
        WebApplication app = builder.Build();
        app.UseRouting();
        app.MapTripswitchDashboard(Pattern, registry);
        await app.StartAsync(cancellationToken);
        string bound = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        return new DashboardHost(app, new Uri(bound.TrimEnd('/') + Pattern));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
