using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Tripswitch.Dashboard.Internal;

namespace Tripswitch.Dashboard.Tests.Infrastructure;

/// <summary>A real Kestrel server on 127.0.0.1 (ephemeral port, from the test kit's <see cref="Loopback"/>) with the dashboard mapped.</summary>
internal sealed class DashboardServer : IAsyncDisposable
{
    private DashboardServer(WebApplication app, Uri baseAddress)
    {
        App = app;
        BaseAddress = baseAddress;
        Client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
    }

    public WebApplication App { get; }

    public Uri BaseAddress { get; }

    public HttpClient Client { get; }

    /// <summary>Starts a server; <paramref name="map"/> maps the dashboard (default: <c>MapTripswitchDashboard()</c> with the registry from DI).</summary>
    public static async Task<DashboardServer> StartAsync(
        Action<WebApplicationBuilder>? configure = null,
        Action<WebApplication>? map = null)
    {
        WebApplicationBuilder builder = Loopback.CreateBuilder(full: true);
        configure?.Invoke(builder);
        WebApplication app = builder.Build();
        if (map is null)
        {
            app.MapTripswitchDashboard();
        }
        else
        {
            map(app);
        }

        Uri baseAddress = await Loopback.StartAsync(app, TestContext.Current.CancellationToken);
        return new DashboardServer(app, baseAddress);
    }

    /// <summary>The feed behind the dashboard's endpoints (attached to them as metadata).</summary>
    public DashboardFeed Feed => ((IEndpointRouteBuilder)App).DataSources
        .SelectMany(source => source.Endpoints)
        .Select(endpoint => endpoint.Metadata.GetMetadata<DashboardFeed>())
        .First(feed => feed is not null)!;

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await App.DisposeAsync();
    }
}
