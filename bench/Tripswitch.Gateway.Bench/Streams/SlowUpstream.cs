using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Tripswitch.Gateway.Bench.Streams;

/// <summary>
/// The streams benchmark's upstream: a slow LLM. Every <c>POST /v1/chat/completions</c> is answered as an OpenAI stream
/// (<c>chat.completion.chunk</c> events): the role chunk at once (the first byte), then <c>max_tokens</c> tokens
/// (<c>t0 </c>, <c>t1 </c> …) each after a random pause, a <c>finish_reason: stop</c> chunk and <c>data: [DONE]</c>.
/// Two endpoints serve it: h2c (HTTP/2 only, cleartext) for the proxies, so their many streams share a few connections,
/// and HTTP/1.1 for the client calling it directly.
/// </summary>
internal static class SlowUpstream
{
    /// <summary>What the proxies' h2c connections may carry at once (Kestrel's default is 100): 10,000 streams need ~10 connections.</summary>
    public const int MaxStreamsPerConnection = 1000;

    /// <summary>Builds the upstream (not started): the h2c endpoint first, the HTTP/1.1 one second, both ephemeral ports on 127.0.0.1.</summary>
    public static WebApplication Build(int minPauseMs, int maxPauseMs)
    {
        WebApplication app = BenchHost.Quiet(kestrel =>
        {
            kestrel.Listen(IPAddress.Loopback, 0, static o => o.Protocols = HttpProtocols.Http2);
            kestrel.Listen(IPAddress.Loopback, 0, static o => o.Protocols = HttpProtocols.Http1);
            kestrel.Limits.Http2.MaxStreamsPerConnection = MaxStreamsPerConnection;
        });
        app.MapPost("/v1/chat/completions", context => StreamAsync(context, minPauseMs, maxPauseMs));
        return app;
    }

    /// <summary>One SSE chunk line (<c>data: {…}\n\n</c>) as the client must receive it; shared with the client's check.</summary>
    public static string Chunk(string delta, string finishReason)
        => $"data: {{\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\",\"created\":0,\"model\":\"gpt-4.1\",\"choices\":[{{\"index\":0,\"delta\":{delta},\"finish_reason\":{finishReason}}}]}}";

    /// <summary>The delta of token <paramref name="i"/>.</summary>
    public static string TokenDelta(int i) => $"{{\"content\":\"t{i} \"}}";

    public const string RoleDelta = "{\"role\":\"assistant\",\"content\":\"\"}";

    private static async Task StreamAsync(HttpContext context, int minPauseMs, int maxPauseMs)
    {
        CancellationToken aborted = context.RequestAborted;
        int tokens;
        using (JsonDocument body = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: aborted))
        {
            tokens = body.RootElement.TryGetProperty("max_tokens", out JsonElement max) ? max.GetInt32() : 0;
        }

        context.Response.ContentType = "text/event-stream";
        await WriteAsync(context, Chunk(RoleDelta, "null"), aborted);
        for (int i = 0; i < tokens; i++)
        {
#pragma warning disable CA5394 // not security relevant: the pause between two tokens
            await Task.Delay(Random.Shared.Next(minPauseMs, maxPauseMs + 1), aborted);
#pragma warning restore CA5394
            await WriteAsync(context, Chunk(TokenDelta(i), "null"), aborted);
        }

        await WriteAsync(context, Chunk("{}", "\"stop\""), aborted);
        await WriteAsync(context, "data: [DONE]", aborted);
    }

    private static async Task WriteAsync(HttpContext context, string line, CancellationToken aborted)
    {
        await context.Response.Body.WriteAsync(Encoding.UTF8.GetBytes(line + "\n\n"), aborted);
        await context.Response.Body.FlushAsync(aborted);
    }
}
