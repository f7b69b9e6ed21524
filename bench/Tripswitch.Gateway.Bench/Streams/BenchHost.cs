using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;

namespace Tripswitch.Gateway.Bench.Streams;

/// <summary>The Kestrel settings every server of the streams benchmark shares, and reading back where it listens.</summary>
internal static class BenchHost
{
    /// <summary>A Kestrel-only application with no logging, configured by <paramref name="kestrel"/>.</summary>
    public static WebApplication Quiet(Action<KestrelServerOptions> kestrel, Action<IServiceCollection>? services = null)
    {
        WebApplicationBuilder builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(k =>
        {
            Raise(k);
            kestrel(k);
        });
        builder.Services.AddRoutingCore();
        services?.Invoke(builder.Services);
        return builder.Build();
    }

    /// <summary>
    /// Bench configuration only: no cap on concurrent connections (null is Kestrel's default, stated so a later default
    /// can't silently cap the run), and no minimum response data rate, so a slow stream is never cut for being slow.
    /// </summary>
    public static void Raise(KestrelServerOptions kestrel)
    {
        kestrel.AddServerHeader = false;
        kestrel.Limits.MaxConcurrentConnections = null;
        kestrel.Limits.MaxConcurrentUpgradedConnections = null;
        kestrel.Limits.MinResponseDataRate = null;
    }

    /// <summary>The addresses <paramref name="app"/> listens on, in the order its endpoints were configured (once started).</summary>
    public static IReadOnlyList<Uri> Addresses(WebApplication app)
        => [.. app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Select(static a => new Uri(a))];
}
