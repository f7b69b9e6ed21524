using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Tripswitch.Testing;

/// <summary>
/// A real Kestrel server on 127.0.0.1 (ephemeral port) that answers every request with the response the test set last:
/// a status code with headers and body, a hang the test releases, or the test's own handler. Counts and records the
/// requests that reached it.
/// </summary>
public sealed class ScriptedServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly CancellationTokenSource _stopping = new();
    private volatile Script _script = new Reply(200, [], null);
    private int _requests;
    private int _disposed;

    private ScriptedServer(WebApplication app) => _app = app;

    /// <summary>The server's address, <c>http://127.0.0.1:port/</c>.</summary>
    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>
    /// The circuit key the HTTP handler uses by default for this server (<c>127.0.0.1-port</c>), from the library's one
    /// key function, <see cref="Tripswitch.Http.CircuitBreakerHandlerOptions.AuthorityKey(Uri)"/>.
    /// </summary>
    public string AuthorityKey => Tripswitch.Http.CircuitBreakerHandlerOptions.AuthorityKey(BaseAddress);

    /// <summary>How many requests reached the server.</summary>
    public int Requests => Volatile.Read(ref _requests);

    /// <summary>Every request that reached the server, in arrival order, with its body (read before it is answered).</summary>
    public ConcurrentQueue<ReceivedRequest> Received { get; } = new();

    /// <summary>Starts a server that answers 200 until told otherwise.</summary>
    public static async Task<ScriptedServer> StartAsync()
    {
        WebApplication app = Loopback.CreateBuilder().Build();
        var server = new ScriptedServer(app);
        app.Run(server.HandleAsync);
        server.BaseAddress = await Loopback.StartAsync(app);
        return server;
    }

    /// <summary>Every following request gets <paramref name="status"/> and these headers, sent as written (malformed values included).</summary>
    public void Respond(int status, params (string Name, string Value)[] headers) => _script = new Reply(status, headers, null);

    /// <summary>Every following request gets <paramref name="status"/> with <paramref name="body"/> and these headers.</summary>
    public void RespondWithBody(int status, string body, params (string Name, string Value)[] headers) => _script = new Reply(status, headers, body);

    /// <summary>Every following request is answered by <paramref name="respond"/> (a proxy's upstream streaming, redirecting …).</summary>
    public void RespondWith(Func<HttpContext, Task> respond) => _script = new Handler(respond);

    /// <summary>Every following request hangs until the returned hang is released or its client goes away.</summary>
    public ServerHang Hang()
    {
        var hang = new ServerHang();
        _script = hang;
        return hang;
    }

    private async Task HandleAsync(HttpContext context)
    {
        Interlocked.Increment(ref _requests);
        await RecordAsync(context.Request);
        Script script = _script;
        if (script is Handler handler)
        {
            await handler.Respond(context);
            return;
        }

        if (script is ServerHang hang)
        {
            using var either = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _stopping.Token);
            hang.Enter();
            try
            {
                await hang.Released.WaitAsync(either.Token);
            }
            catch (OperationCanceledException)
            {
                if (context.RequestAborted.IsCancellationRequested)
                {
                    hang.ClientWentAway();
                }

                return;
            }

            script = new Reply(200, [], null);
        }

        var reply = (Reply)script;
        context.Response.StatusCode = reply.Status;
        foreach ((string name, string value) in reply.Headers)
        {
            context.Response.Headers.Append(name, value);
        }

        await context.Response.WriteAsync(reply.Body ?? $"status {reply.Status}");
    }

    private async Task RecordAsync(HttpRequest request)
    {
        using var body = new MemoryStream();
        await request.Body.CopyToAsync(body, request.HttpContext.RequestAborted);
        Received.Enqueue(new ReceivedRequest(
            request.Method,
            request.Path.Value ?? "",
            request.QueryString.Value ?? "",
            request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase),
            body.ToArray()));
    }

    /// <summary>Releases held requests and stops the server (once: a test may stop it early, its fixture again).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync();
        await _app.StopAsync();
        await _app.DisposeAsync();
        _stopping.Dispose();
    }

    /// <summary>What the server does with the next requests.</summary>
    public abstract class Script
    {
        private protected Script()
        {
        }
    }

    private sealed class Reply(int status, (string Name, string Value)[] headers, string? body) : Script
    {
        public int Status { get; } = status;

        public (string Name, string Value)[] Headers { get; } = headers;

        public string? Body { get; } = body;
    }

    private sealed class Handler(Func<HttpContext, Task> respond) : Script
    {
        public Func<HttpContext, Task> Respond { get; } = respond;
    }

    /// <summary>A hang: the test awaits <see cref="Entered"/>, then cancels or releases.</summary>
    public sealed class ServerHang : Script
    {
        private readonly TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _clientGone = new(TaskCreationOptions.RunContinuationsAsynchronously);

        internal ServerHang()
        {
        }

        /// <summary>Completes when a request reached the hang.</summary>
        public Task Entered => _entered.Task;

        /// <summary>Completes when a held request's client went away.</summary>
        public Task ClientGone => _clientGone.Task;

        internal Task Released => _released.Task;

        /// <summary>Lets held requests (and later ones) answer 200.</summary>
        public void Release() => _released.TrySetResult();

        internal void Enter() => _entered.TrySetResult();

        internal void ClientWentAway() => _clientGone.TrySetResult();
    }
}

/// <summary>A request as <see cref="ScriptedServer"/> received it.</summary>
/// <param name="Method">The HTTP method.</param>
/// <param name="Path">The path, from <c>/</c>.</param>
/// <param name="Query">The query string with its <c>?</c>, or empty.</param>
/// <param name="Headers">Every header (several values joined by commas), by case-insensitive name.</param>
/// <param name="Body">The body's bytes.</param>
public sealed record ReceivedRequest(string Method, string Path, string Query, IReadOnlyDictionary<string, string> Headers, byte[] Body);
