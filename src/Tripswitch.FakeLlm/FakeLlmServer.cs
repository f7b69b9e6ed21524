using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Tripswitch.FakeLlm;

/// <summary>
/// An OpenAI-compatible fake LLM server on Kestrel, bound to 127.0.0.1 on an ephemeral port (nothing beyond loopback),
/// for tests, samples and demos. It serves <c>POST /v1/chat/completions</c> (a JSON completion, or server-sent events
/// ending with <c>data: [DONE]</c> when the request says <c>"stream": true</c>) and <c>GET /v1/models</c>, in the JSON
/// shape of the OpenAI API. Each model is scripted on its own (<see cref="Model"/>): answer, fail, rate-limit, hang, or
/// cut a response midway; and counts its requests. It logs nothing.
/// </summary>
/// <example>
/// <code>
/// await using var server = await FakeLlmServer.StartAsync();
/// server.Model("gpt-4.1").Enqueue(FakeLlmBehavior.ServerError(), times: 3).Always(FakeLlmBehavior.Reply("Hi!"));
/// // point a client at server.ApiEndpoint (http://127.0.0.1:PORT/v1)
/// </code>
/// </example>
public sealed class FakeLlmServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, FakeModel> _models = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private long _completionIds;
    private int _totalRequests;
    private int _disposed;

    private FakeLlmServer(WebApplication app, FakeLlmServerOptions options)
    {
        _app = app;
        _time = options.TimeProvider ?? throw new ArgumentException("FakeLlmServerOptions.TimeProvider must not be null.", nameof(options));
        foreach (string model in options.Models)
        {
            Model(model);
        }
    }

    /// <summary>The server's root address, like <c>http://127.0.0.1:41234/</c>.</summary>
    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>The endpoint to give an OpenAI client: <see cref="BaseAddress"/> + <c>v1</c>, like <c>http://127.0.0.1:41234/v1</c>.</summary>
    public Uri ApiEndpoint => new(BaseAddress, "v1");

    /// <summary>The models the server knows, in no particular order.</summary>
    public IReadOnlyCollection<FakeModel> Models => [.. _models.Values];

    /// <summary>How many chat-completion requests arrived, for any model (unknown models and invalid bodies included).</summary>
    public int TotalRequests => Volatile.Read(ref _totalRequests);

    /// <summary>Starts a server on 127.0.0.1 with an ephemeral port.</summary>
    /// <param name="options">The options; <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>The running server; dispose it to stop it.</returns>
    public static async Task<FakeLlmServer> StartAsync(FakeLlmServerOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new FakeLlmServerOptions();

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
        var server = new FakeLlmServer(app, options);
        app.MapPost("/v1/chat/completions", server.ChatCompletionsAsync);
        app.MapGet("/v1/models", server.ModelsAsync);

        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
            server._stopping.Dispose();
            throw;
        }

        string bound = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        server.BaseAddress = new Uri(bound.EndsWith('/') ? bound : bound + "/");
        return server;
    }

    /// <summary>Returns the model named <paramref name="name"/>, adding it (listed, answering by default) when the server doesn't know it yet.</summary>
    /// <param name="name">The model id, e.g. <c>gpt-4.1</c>.</param>
    /// <returns>The model, to script and to read its request count.</returns>
    public FakeModel Model(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return _models.GetOrAdd(name, static n => new FakeModel(n));
    }

    /// <summary>Stops the server; requests that hang are let go first.</summary>
    /// <returns>A task that completes when the server has stopped.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        _stopping.Dispose();
    }

    private Task ModelsAsync(HttpContext context)
    {
        string[] names = [.. _models.Keys.Order(StringComparer.Ordinal)];
        return WriteJsonAsync(context, StatusCodes.Status200OK, OpenAIJson.ModelList(names, Now()));
    }

    private async Task ChatCompletionsAsync(HttpContext context)
    {
        Interlocked.Increment(ref _totalRequests);
        CancellationToken aborted = context.RequestAborted;

        ChatRequest? request;
        string? error;
        try
        {
            using JsonDocument body = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: aborted).ConfigureAwait(false);
            request = ChatRequest.TryRead(body.RootElement, out error);
        }
        catch (JsonException)
        {
            request = null;
            error = "We could not parse the JSON body of your request.";
        }

        if (request is null)
        {
            await WriteJsonAsync(context, StatusCodes.Status400BadRequest, OpenAIJson.Error(error!, "invalid_request_error", code: null)).ConfigureAwait(false);
            return;
        }

        if (!_models.TryGetValue(request.Model, out FakeModel? model))
        {
            await WriteJsonAsync(
                context,
                StatusCodes.Status404NotFound,
                OpenAIJson.Error($"The model `{request.Model}` does not exist or you do not have access to it.", "invalid_request_error", "model_not_found")).ConfigureAwait(false);
            return;
        }

        FakeLlmBehavior? behavior = model.Next();
        while (behavior is FakeLlmHang hang)
        {
            behavior = await hang.HoldAsync(aborted, _stopping.Token).ConfigureAwait(false);
        }

        switch (behavior)
        {
            case null:
                context.Abort(); // the client went away, or the server is stopping
                break;
            case FakeLlmBehavior.ReplyBehavior reply when request.Stream:
                await StreamAsync(context, request, reply.Text, failAfterChunks: null).ConfigureAwait(false);
                break;
            case FakeLlmBehavior.ReplyBehavior reply:
                await WriteJsonAsync(context, StatusCodes.Status200OK, Completion(request, reply.Text)).ConfigureAwait(false);
                break;
            case FakeLlmBehavior.FailMidwayBehavior cut when request.Stream:
                await StreamAsync(context, request, cut.Text, cut.ChunksBeforeFailure).ConfigureAwait(false);
                break;
            case FakeLlmBehavior.FailMidwayBehavior cut:
                await FailJsonMidwayAsync(context, Completion(request, cut.Text)).ConfigureAwait(false);
                break;
            case FakeLlmBehavior.ErrorBehavior failure:
                await WriteErrorAsync(context, failure).ConfigureAwait(false);
                break;
            default:
                throw new InvalidOperationException($"Unknown behavior {behavior.GetType()}.");
        }
    }

    private byte[] Completion(ChatRequest request, string text)
        => OpenAIJson.Completion(NextId(), Now(), request.Model, text, request.PromptTokens);

    private async Task StreamAsync(HttpContext context, ChatRequest request, string text, int? failAfterChunks)
    {
        CancellationToken aborted = context.RequestAborted;
        string id = NextId();
        long created = Now();
        HttpResponse response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-cache";
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();

        await WriteEventAsync(response, OpenAIJson.Chunk(id, created, request.Model, first: true, content: null, last: false, request.IncludeUsage), aborted).ConfigureAwait(false);
        List<string> pieces = SplitForStreaming(text);
        for (int i = 0; i < pieces.Count; i++)
        {
            if (failAfterChunks is { } limit && i >= limit)
            {
                throw new FailedMidwayException();
            }

            await WriteEventAsync(response, OpenAIJson.Chunk(id, created, request.Model, first: false, pieces[i], last: false, request.IncludeUsage), aborted).ConfigureAwait(false);
        }

        if (failAfterChunks is not null)
        {
            throw new FailedMidwayException(); // fewer pieces than the limit: cut before the finish chunk
        }

        await WriteEventAsync(response, OpenAIJson.Chunk(id, created, request.Model, first: false, content: null, last: true, request.IncludeUsage), aborted).ConfigureAwait(false);
        if (request.IncludeUsage)
        {
            await WriteEventAsync(response, OpenAIJson.UsageChunk(id, created, request.Model, request.PromptTokens, ChatRequest.CountTokens(text)), aborted).ConfigureAwait(false);
        }

        await WriteEventAsync(response, "[DONE]"u8.ToArray(), aborted).ConfigureAwait(false);
    }

    private static async Task WriteEventAsync(HttpResponse response, byte[] data, CancellationToken cancellationToken)
    {
        await response.Body.WriteAsync("data: "u8.ToArray(), cancellationToken).ConfigureAwait(false);
        await response.Body.WriteAsync(data, cancellationToken).ConfigureAwait(false);
        await response.Body.WriteAsync("\n\n"u8.ToArray(), cancellationToken).ConfigureAwait(false);
        await response.Body.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Splits a reply into streaming pieces: words with the spaces that follow them.</summary>
    private static List<string> SplitForStreaming(string text)
    {
        var pieces = new List<string>();
        int start = 0;
        for (int i = 0; i < text.Length; i++)
        {
            if (char.IsWhiteSpace(text[i]) && (i + 1 == text.Length || !char.IsWhiteSpace(text[i + 1])))
            {
                pieces.Add(text[start..(i + 1)]);
                start = i + 1;
            }
        }

        if (start < text.Length)
        {
            pieces.Add(text[start..]);
        }

        return pieces;
    }

    private static async Task FailJsonMidwayAsync(HttpContext context, byte[] body)
    {
        HttpResponse response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/json";
        response.ContentLength = body.Length;
        await response.Body.WriteAsync(body.AsMemory(0, body.Length / 2), context.RequestAborted).ConfigureAwait(false);
        await response.Body.FlushAsync(context.RequestAborted).ConfigureAwait(false);
        throw new FailedMidwayException();
    }

    private static Task WriteErrorAsync(HttpContext context, FakeLlmBehavior.ErrorBehavior failure)
    {
        (string message, string type, string? code) = failure.StatusCode switch
        {
            StatusCodes.Status429TooManyRequests => ("Rate limit reached for requests. Please try again later.", "requests", "rate_limit_exceeded"),
            >= 500 => ("The server had an error while processing your request. Sorry about that!", "server_error", (string?)null),
            _ => (string.Create(CultureInfo.InvariantCulture, $"Simulated error {failure.StatusCode}."), "invalid_request_error", (string?)null),
        };

        foreach ((string name, string value) in failure.Headers)
        {
            context.Response.Headers.Append(name, value);
        }

        return WriteJsonAsync(context, failure.StatusCode, OpenAIJson.Error(message, type, code));
    }

    private static async Task WriteJsonAsync(HttpContext context, int statusCode, byte[] body)
    {
        HttpResponse response = context.Response;
        response.StatusCode = statusCode;
        response.ContentType = "application/json";
        response.ContentLength = body.Length;
        await response.Body.WriteAsync(body, context.RequestAborted).ConfigureAwait(false);
    }

    private string NextId() => string.Create(CultureInfo.InvariantCulture, $"chatcmpl-fake{Interlocked.Increment(ref _completionIds):D6}");

    private long Now() => _time.GetUtcNow().ToUnixTimeSeconds();

    /// <inheritdoc/>
    public override string ToString()
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"FakeLlmServer {BaseAddress}");
        foreach (FakeModel model in _models.Values.OrderBy(m => m.Name, StringComparer.Ordinal))
        {
            text.Append(CultureInfo.InvariantCulture, $"; {model}");
        }

        return text.ToString();
    }

    /// <summary>
    /// Thrown by a request handler after the response started: Kestrel then ends the connection without finishing the
    /// response (no last chunk, or fewer bytes than the Content-Length), after sending what was written, so the client
    /// reliably gets the first part and then "the response ended prematurely".
    /// </summary>
    private sealed class FailedMidwayException() : Exception("FakeLlm: the response fails midway, as scripted.");
}
