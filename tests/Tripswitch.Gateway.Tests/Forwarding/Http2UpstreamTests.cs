using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;
using Tripswitch.Gateway.Tests.Infrastructure;
using Tripswitch.Testing;
using Xunit;

namespace Tripswitch.Gateway.Tests.Forwarding;

/// <summary><c>Providers:{name}:HttpVersion = 2</c> with an http base URL speaks HTTP/2 with prior knowledge (h2c), so many streams share one connection.</summary>
public sealed class Http2UpstreamTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task HttpVersion2_ReachesAnH2cOnlyUpstream_AndForwardsAStream()
    {
        var protocols = new List<string>();
        await using WebApplication upstream = H2cOnlyUpstream(async context =>
        {
            lock (protocols)
            {
                protocols.Add(context.Request.Protocol);
            }

            context.Response.ContentType = "text/event-stream";
            foreach (string token in new[] { "Hel", "lo" })
            {
                await context.Response.WriteAsync($"data: {{\"object\":\"chat.completion.chunk\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"{token}\"}}}}]}}\n\n", context.RequestAborted);
                await context.Response.Body.FlushAsync(context.RequestAborted);
            }

            await context.Response.WriteAsync("data: [DONE]\n\n", context.RequestAborted);
        });
        Uri upstreamAddress = await Loopback.StartAsync(upstream, Token);
        await using GatewayHarness gateway = await GatewayHarness.StartAsync(c => c["Gateway:Providers:fake:HttpVersion"] = "2", new Uri(upstreamAddress, "v1"));
        using HttpClient client = gateway.HttpClient();

        using HttpResponseMessage response = await client.PostAsync("v1/chat/completions", new StringContent("""{"model":"gpt-4o-mini","stream":true,"messages":[]}""", Encoding.UTF8, "application/json"), Token);
        string body = await response.Content.ReadAsStringAsync(Token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["HTTP/2"], protocols);
        Assert.Equal(3, body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Contains("\"content\":\"Hel\"", body, StringComparison.Ordinal);
        Assert.EndsWith("data: [DONE]\n\n", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DefaultHttpVersion_CannotReachAnH2cOnlyUpstream()
    {
        // The counterpart: without the option the gateway speaks HTTP/1.1, which an h2c-only endpoint refuses, so the
        // test above passes because of the option and not because the connection would have worked anyway.
        int reached = 0;
        await using WebApplication upstream = H2cOnlyUpstream(_ =>
        {
            Interlocked.Increment(ref reached);
            return Task.CompletedTask;
        });
        Uri upstreamAddress = await Loopback.StartAsync(upstream, Token);
        await using GatewayHarness gateway = await GatewayHarness.StartAsync(upstreamOverride: new Uri(upstreamAddress, "v1"));
        using HttpClient client = gateway.HttpClient();

        using HttpResponseMessage response = await client.PostAsync("v1/chat/completions", new StringContent("""{"model":"gpt-4o-mini","messages":[]}""", Encoding.UTF8, "application/json"), Token);

        // Kestrel answers an HTTP/1.1 request on an HTTP/2-only endpoint with a 400 of its own; the app never runs.
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(0, Volatile.Read(ref reached));
    }

    /// <summary>Kestrel on 127.0.0.1 speaking HTTP/2 only, on a cleartext endpoint (not started).</summary>
    private static WebApplication H2cOnlyUpstream(RequestDelegate respond)
    {
        WebApplicationBuilder builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(static k => k.Listen(IPAddress.Loopback, 0, static o => o.Protocols = HttpProtocols.Http2));
        builder.Logging.ClearProviders();
        WebApplication app = builder.Build();
        app.Run(respond);
        return app;
    }
}
