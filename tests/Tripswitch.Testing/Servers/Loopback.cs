using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Tripswitch.Testing;

/// <summary>
/// Real servers for tests, on 127.0.0.1 only: Kestrel on an ephemeral port (so tests run in parallel without port
/// clashes), and a loopback port that refuses connections.
/// </summary>
public static class Loopback
{
    /// <summary>
    /// A builder whose Kestrel listens on 127.0.0.1, ephemeral port (or <paramref name="port"/>), with logging off and a
    /// production environment. <paramref name="full"/> uses <see cref="WebApplication.CreateBuilder(WebApplicationOptions)"/>
    /// (routing, authentication …) instead of the empty builder (Kestrel and nothing else).
    /// </summary>
    public static WebApplicationBuilder CreateBuilder(bool full = false, int port = 0)
    {
        var options = new WebApplicationOptions { EnvironmentName = Environments.Production };
        WebApplicationBuilder builder = full ? WebApplication.CreateBuilder(options) : WebApplication.CreateEmptyBuilder(options);
        if (full)
        {
            builder.WebHost.UseKestrel();
        }
        else
        {
            builder.WebHost.UseKestrelCore();
        }

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(IPAddress.Loopback, port);
        });
        builder.Logging.ClearProviders();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(20));
        return builder;
    }

    /// <summary>Starts <paramref name="app"/> and returns its base address (<c>http://127.0.0.1:port/</c>).</summary>
    public static async Task<Uri> StartAsync(WebApplication app, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(app);
        await app.StartAsync(cancellationToken);
        string bound = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses
            .Single(address => address.StartsWith("http://127.0.0.1:", StringComparison.Ordinal));
        return new Uri(bound.EndsWith('/') ? bound : bound + "/");
    }

    /// <summary>
    /// A socket bound to a loopback port but not listening, and that port's address: connecting to it is refused at once.
    /// Keep the socket until the test ends, so no other process takes the port.
    /// </summary>
    public static (Socket Bound, Uri Address) RefusingPort()
    {
        var bound = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        bound.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return (bound, new Uri($"http://127.0.0.1:{((IPEndPoint)bound.LocalEndPoint!).Port}/"));
    }
}
