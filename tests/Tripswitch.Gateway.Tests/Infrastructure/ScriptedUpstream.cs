using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Tripswitch.Gateway.Tests.Infrastructure;

/// <summary>A Kestrel server on 127.0.0.1 that records every request (method, path, query, headers, body) and answers as scripted.</summary>
internal sealed class ScriptedUpstream : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _disposed;

    private ScriptedUpstream(WebApplication app) => _app = app;

    public ConcurrentQueue<ReceivedRequest> Requests { get; } = new();

    /// <summary>How it answers; by default 200 with a small JSON body.</summary>
    public Func<HttpContext, Task> Respond { get; set; } = static context =>
    {
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync("{\"object\":\"list\",\"data\":[]}");
    };

    public Uri BaseAddress { get; private set; } = null!;

    public Uri ApiEndpoint => new(BaseAddress, "v1");

    public static async Task<ScriptedUpstream> StartAsync()
    {
        WebApplicationBuilder builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        WebApplication app = builder.Build();
        var upstream = new ScriptedUpstream(app);
        app.Run(async context =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body, context.RequestAborted);
            upstream.Requests.Enqueue(new ReceivedRequest(
                context.Request.Method,
                context.Request.Path.Value ?? "",
                context.Request.QueryString.Value ?? "",
                context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase),
                body.ToArray()));
            await upstream.Respond(context);
        });
        await app.StartAsync(TestContext.Current.CancellationToken);
        string bound = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        upstream.BaseAddress = new Uri(bound.TrimEnd('/') + "/");
        return upstream;
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _app.StopAsync(CancellationToken.None);
        await _app.DisposeAsync();
    }
}

internal sealed record ReceivedRequest(string Method, string Path, string Query, Dictionary<string, string> Headers, byte[] Body);
