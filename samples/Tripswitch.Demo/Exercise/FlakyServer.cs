using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Tripswitch.Demo;

/// <summary>
/// An embedded Kestrel server on 127.0.0.1 (an ephemeral port, nothing beyond loopback) with one endpoint,
/// <c>GET /v1/flaky</c>, that fails a given share of requests with HTTP 500. The failures come from a seeded
/// <see cref="Random"/>, so the n-th request gets the same answer on every run with the same seed.
/// </summary>
internal sealed class FlakyServer : IAsyncDisposable
{
    public const string FlakyPath = "/v1/flaky";

    private readonly WebApplication _app;
    private readonly Random _random;
    private readonly double _failureRate;
    private readonly Lock _sync = new();
    private int _requests;

    private FlakyServer(WebApplication app, int seed, double failureRate)
    {
        _app = app;
        _random = new Random(seed);
        _failureRate = failureRate;
    }

    /// <summary>The address the server listens on, e.g. <c>http://127.0.0.1:41234/</c>, known once it has started.</summary>
    public Uri Address { get; private set; } = null!;

    /// <summary>How many requests the server has answered.</summary>
    public int Requests => Volatile.Read(ref _requests);

    public static async Task<FlakyServer> StartAsync(int seed, double failureRate, CancellationToken cancellationToken)
    {
        // The empty builder reads no configuration, environment variables or appsettings and registers no logging
        // provider: the server stays quiet and listens only where it is told to.
        WebApplicationBuilder builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(IPAddress.Loopback, 0);
        });
        builder.Services.AddRoutingCore();

        WebApplication app = builder.Build();
        var server = new FlakyServer(app, seed, failureRate);
        app.MapGet(FlakyPath, server.HandleAsync);

        await app.StartAsync(cancellationToken);
        string bound = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        server.Address = new Uri(bound.EndsWith('/') ? bound : bound + "/");
        return server;
    }

    private Task HandleAsync(HttpContext context)
    {
        bool fail;
        int number;
        lock (_sync)
        {
            number = ++_requests;
#pragma warning disable CA5394 // Not security: a seeded, repeatable sequence is the point.
            fail = _random.NextDouble() < _failureRate;
#pragma warning restore CA5394
        }

        context.Response.ContentType = "text/plain; charset=utf-8";
        if (fail)
        {
            context.Response.StatusCode = StatusCodes.Status500InternalServerError;
            return context.Response.WriteAsync(
                string.Create(CultureInfo.InvariantCulture, $"request {number}: simulated failure"),
                context.RequestAborted);
        }

        return context.Response.WriteAsync(
            string.Create(CultureInfo.InvariantCulture, $"request {number}: hello"),
            context.RequestAborted);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
