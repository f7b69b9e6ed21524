using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Forwarder;

namespace Tripswitch.Gateway.Bench.Streams;

/// <summary>
/// The two proxies the streams benchmark compares, each towards the upstream's h2c endpoint: plain YARP (the same
/// <see cref="IHttpForwarder"/>, handler settings and HTTP/2 request settings as the gateway's provider, no circuits)
/// and the Tripswitch gateway itself with <c>HttpVersion = 2</c>.
/// </summary>
internal static class Proxies
{
    public static WebApplication PlainYarp(Uri upstreamH2c)
    {
        WebApplication yarp = BenchHost.Quiet(static k => k.Listen(IPAddress.Loopback, 0), static s => s.AddHttpForwarder());
        var invoker = new HttpMessageInvoker(new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            ConnectTimeout = TimeSpan.FromSeconds(10),
            EnableMultipleHttp2Connections = true,
        });
        // What the gateway's provider sends with HttpVersion = 2 and an http base URL: HTTP/2 with prior knowledge.
        var config = new ForwarderRequestConfig { ActivityTimeout = TimeSpan.FromSeconds(100), Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact };
        string prefix = upstreamH2c.GetLeftPart(UriPartial.Authority);
        yarp.MapPost("/v1/chat/completions", async context => await context.RequestServices.GetRequiredService<IHttpForwarder>()
            .SendAsync(context, prefix, invoker, config, HttpTransformer.Default));
        return yarp;
    }

    public static Task<WebApplication> GatewayAsync(Uri upstreamH2c) => GatewayApp.BuildAsync(["--urls", "http://127.0.0.1:0"], builder =>
    {
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(BenchHost.Raise);
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Gateway:AllowAnonymous"] = "true",
            ["Gateway:Providers:bench:BaseUrl"] = new Uri(upstreamH2c, "v1").AbsoluteUri,
            ["Gateway:Providers:bench:HttpVersion"] = "2",
            ["Gateway:Models:gpt-4.1:Provider"] = "bench",
            // The gateway gives Kestrel its own connection limit (default 10,000), after BenchHost.Raise: lift it to the
            // most it allows, so the limit cannot cap the run.
            ["Gateway:Limits:MaxConnections"] = "1000000",
        });
    });
}
