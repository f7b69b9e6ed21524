using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Tripswitch.Gateway.Tests.Soak;

/// <summary>
/// The soak's upstream: an OpenAI-shaped chat endpoint (a JSON completion, or server-sent events ending with
/// <c>data: [DONE]</c>) that misbehaves at random: its own 500 (whose body carries <see cref="Marker"/>, so the client
/// can tell it from a 500 of the gateway), a 429 with <c>Retry-After</c>, and a response cut midway (the connection
/// aborted after the headers and part of the body). A model can be made to fail every request for a while
/// (<see cref="Fail"/>), so that its circuit opens. Served by a <see cref="Testing.RestartableServer"/>.
/// </summary>
internal sealed class SoakUpstream
{
    /// <summary>In the body of every 500 this upstream sends, and of nothing the gateway writes itself.</summary>
    public const string Marker = "soak-upstream-own-500";

    /// <summary>The request header whose value names a request, so the soak can tell which responses this server cut.</summary>
    public const string RequestIdHeader = "X-Client-Request-Id";

    private readonly ConcurrentDictionary<string, byte> _cut = new(StringComparer.Ordinal);

    private const int StreamChunks = 8;
    private static readonly TimeSpan ChunkInterval = TimeSpan.FromMilliseconds(15);

    private readonly ConcurrentDictionary<string, bool> _failing = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _served = new(StringComparer.Ordinal);
    private volatile bool _healthy;

    /// <summary>What the upstream did, by behaviour (for the summary).</summary>
    public IReadOnlyDictionary<string, int> Served => _served;

    /// <summary>Makes every request for <paramref name="model"/> fail with a marked 500 until <see cref="Heal"/>.</summary>
    public void Fail(string model) => _failing[model] = true;

    /// <summary>Ends the failures <see cref="Fail"/> started.</summary>
    public void Heal(string model) => _failing.TryRemove(model, out _);

    /// <summary>Whether every request is answered in full, with no fault (for the recovery checks); setting it ends every <see cref="Fail"/>.</summary>
    public bool Healthy
    {
        get => _healthy;
        set
        {
            _healthy = value;
            _failing.Clear();
        }
    }

    /// <summary>Whether this server cut the response to the request named <paramref name="requestId"/> midway.</summary>
    public bool Cut(string requestId) => _cut.ContainsKey(requestId);

    /// <summary>Answers one request (the handler of every life of the server).</summary>
    public async Task HandleAsync(HttpContext context)
    {
        CancellationToken aborted = context.RequestAborted;
        (string model, bool stream) = await ReadAsync(context.Request, aborted);
        // Per mille. A 429 opens its circuit at once for its Retry-After, so it stays rare; 500s and cuts open it only
        // after 5 in a row (or while a model is made to fail).
        int draw = _healthy ? 1000 : Random.Shared.Next(1000);
        if (_failing.ContainsKey(model) || draw < 30)
        {
            Count("500");
            await ErrorAsync(context, 500, "server_error", Marker);
        }
        else if (draw < 35)
        {
            Count("429");
            context.Response.Headers.RetryAfter = "1";
            await ErrorAsync(context, 429, "rate_limit_exceeded", "Rate limit reached (soak).");
        }
        else if (draw < 95)
        {
            Count("cut midway");
            if (context.Request.Headers[RequestIdHeader] is { Count: 1 } id)
            {
                _cut.TryAdd(id.ToString(), 0);
            }

            await CutMidwayAsync(context, model, stream);
        }
        else
        {
            Count(stream ? "stream" : "plain");
            await (stream ? StreamAsync(context, model, StreamChunks) : PlainAsync(context, model));
        }
    }

    private static async Task<(string Model, bool Stream)> ReadAsync(HttpRequest request, CancellationToken aborted)
    {
        using JsonDocument body = await JsonDocument.ParseAsync(request.Body, cancellationToken: aborted);
        JsonElement root = body.RootElement;
        string model = root.TryGetProperty("model", out JsonElement m) ? m.GetString() ?? "" : "";
        bool stream = root.TryGetProperty("stream", out JsonElement s) && s.ValueKind == JsonValueKind.True;
        return (model, stream);
    }

    private static Task PlainAsync(HttpContext context, string model)
    {
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(Completion(model), context.RequestAborted);
    }

    private static async Task StreamAsync(HttpContext context, string model, int chunks)
    {
        CancellationToken aborted = context.RequestAborted;
        context.Response.ContentType = "text/event-stream";
        for (int i = 0; i < chunks; i++)
        {
            await context.Response.WriteAsync($"data: {Chunk(model, i)}\n\n", aborted);
            await context.Response.Body.FlushAsync(aborted);
            await Task.Delay(ChunkInterval, aborted);
        }

        await context.Response.WriteAsync("data: [DONE]\n\n", aborted);
    }

    private static async Task CutMidwayAsync(HttpContext context, string model, bool stream)
    {
        CancellationToken aborted = context.RequestAborted;
        if (stream)
        {
            context.Response.ContentType = "text/event-stream";
            for (int i = 0; i < 2; i++)
            {
                await context.Response.WriteAsync($"data: {Chunk(model, i)}\n\n", aborted);
                await context.Response.Body.FlushAsync(aborted);
                await Task.Delay(ChunkInterval, aborted);
            }
        }
        else
        {
            string body = Completion(model);
            context.Response.ContentType = "application/json";
            context.Response.ContentLength = body.Length;
            await context.Response.WriteAsync(body[..(body.Length / 2)], aborted);
            await context.Response.Body.FlushAsync(aborted);
        }

        context.Abort();
    }

    private static Task ErrorAsync(HttpContext context, int status, string code, string message)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync($$$"""{"error":{"message":"{{{message}}}","type":"{{{code}}}","param":null,"code":"{{{code}}}"}}""", context.RequestAborted);
    }

    // The model names are the soak's own configured ones: no escaping needed.
    private static string Completion(string model)
        => $$"""{"id":"chatcmpl-soak","object":"chat.completion","created":0,"model":"{{model}}","choices":[{"index":0,"message":{"role":"assistant","content":"soak answer"},"finish_reason":"stop"}]}""";

    private static string Chunk(string model, int i)
        => $$"""{"id":"chatcmpl-soak","object":"chat.completion.chunk","created":0,"model":"{{model}}","choices":[{"index":0,"delta":{"content":"t{{i}} "},"finish_reason":null}]}""";

    private void Count(string behaviour) => _served.AddOrUpdate(behaviour, 1, static (_, n) => n + 1);
}
