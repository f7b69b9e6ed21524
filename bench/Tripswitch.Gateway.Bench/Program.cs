using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Tripswitch.Gateway;
using Yarp.ReverseProxy.Forwarder;

// `streams …`: the 10,000-stream benchmark (Streams/StreamsBench.cs, bench/gateway/streams.sh), its own mode.
if (args is [{ } mode, ..] && mode.StartsWith("streams", StringComparison.Ordinal))
{
    return await Tripswitch.Gateway.Bench.Streams.StreamsBench.MainAsync(args);
}

// The three servers bench/gateway/run.sh drives with wrk, on loopback: an upstream that answers a fixed chat
// completion (port+0), plain YARP forwarding to it with no circuits (port+1), and the Tripswitch gateway in front of
// it (port+2). The same forwarder (IHttpForwarder) and the same handler settings in both proxies, so the difference is
// what the gateway adds: reading the model, the route, the circuit's permit and its outcome.
int port = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 5601;
byte[] completion = """{"id":"chatcmpl-bench","object":"chat.completion","created":0,"model":"gpt-4.1","choices":[{"index":0,"message":{"role":"assistant","content":"Hello."},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}"""u8.ToArray();

WebApplication upstream = Quiet(port);
upstream.MapPost("/v1/chat/completions", async context =>
{
    await context.Request.Body.CopyToAsync(Stream.Null, context.RequestAborted);
    context.Response.ContentType = "application/json";
    context.Response.ContentLength = completion.Length;
    await context.Response.Body.WriteAsync(completion, context.RequestAborted);
});

WebApplication yarp = Quiet(port + 1, services => services.AddHttpForwarder());
var invoker = new HttpMessageInvoker(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false, AutomaticDecompression = DecompressionMethods.None, UseCookies = false, EnableMultipleHttp2Connections = true });
string prefix = $"http://127.0.0.1:{port}";
yarp.MapPost("/v1/chat/completions", async context => await context.RequestServices.GetRequiredService<IHttpForwarder>()
    .SendAsync(context, prefix, invoker, ForwarderRequestConfig.Empty, HttpTransformer.Default));

WebApplication gateway = await GatewayApp.BuildAsync(["--urls", $"http://127.0.0.1:{port + 2}"], builder =>
{
    builder.Logging.ClearProviders();
    builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
    {
        ["Gateway:AllowAnonymous"] = "true",
        ["Gateway:Providers:bench:BaseUrl"] = $"{prefix}/v1",
        ["Gateway:Models:gpt-4.1:Provider"] = "bench",
    });
});

await upstream.StartAsync();
await yarp.StartAsync();
await gateway.StartAsync();
Console.WriteLine($"ready: upstream {port}, yarp {port + 1}, gateway {port + 2}");
await gateway.WaitForShutdownAsync();
await yarp.StopAsync();
await upstream.StopAsync();
return 0;

static WebApplication Quiet(int port, Action<IServiceCollection>? services = null)
{
    WebApplicationBuilder builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
    builder.WebHost.UseKestrelCore().ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port));
    builder.Services.AddRoutingCore();
    services?.Invoke(builder.Services);
    return builder.Build();
}
