using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Xunit;

namespace Tripswitch.Testing;

/// <summary>
/// A real Kestrel server on 127.0.0.1 that can be killed and started again on the same port, as an upstream that
/// crashes and comes back: while it is down, connecting is refused; a kill aborts every open connection at once
/// (requests and streams in progress are cut, their handlers see <c>RequestAborted</c>). Every request, in every life
/// of the server, is answered by the same handler.
/// </summary>
public sealed class RestartableServer : IAsyncDisposable
{
    // After a kill the port may linger a moment (the old listener's socket closing): binding again is retried, bounded.
    private const int BindAttempts = 50;
    private static readonly TimeSpan BindRetryDelay = TimeSpan.FromMilliseconds(100);

    private readonly RequestDelegate _handler;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private WebApplication? _app;
    private int _port;
    private int _starts;
    private int _kills;

    private RestartableServer(RequestDelegate handler) => _handler = handler;

    /// <summary>The server's address, <c>http://127.0.0.1:port/</c>, the same in every life.</summary>
    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>Whether the server is listening now.</summary>
    public bool IsRunning => Volatile.Read(ref _app) is not null;

    /// <summary>How many times it started (the first start included).</summary>
    public int Starts => Volatile.Read(ref _starts);

    /// <summary>How many times it was killed.</summary>
    public int Kills => Volatile.Read(ref _kills);

    /// <summary>Starts a server on a free loopback port that answers every request with <paramref name="handler"/>.</summary>
    /// <param name="handler">Answers every request, in every life of the server.</param>
    /// <returns>The running server.</returns>
    public static async Task<RestartableServer> StartAsync(RequestDelegate handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        var server = new RestartableServer(handler);
        await server.RestartAsync();
        return server;
    }

    // A kill or restart still running after this long is stuck (a server that never stops): fail, don't wait on.
    private async Task EnterAsync()
    {
        if (!await _gate.WaitAsync(Eventually.Timeout * 4, TestContext.Current.CancellationToken))
        {
            throw new TimeoutException("Timed out waiting for the server's previous kill or restart to end.");
        }
    }

    /// <summary>Stops the server at once: it stops listening and aborts every open connection (no graceful drain).</summary>
    /// <returns>A task that completes when the server is down.</returns>
    public Task KillAsync() => KillAsync(counted: true);

    private async Task KillAsync(bool counted)
    {
        await EnterAsync();
        try
        {
            if (_app is { } app)
            {
                Volatile.Write(ref _app, null);
                await StopAsync(app);
                if (counted)
                {
                    Interlocked.Increment(ref _kills);
                }
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Starts the server again on its port (after <see cref="KillAsync"/>); does nothing when it is running.</summary>
    /// <returns>A task that completes when the server listens.</returns>
    public async Task RestartAsync()
    {
        await EnterAsync();
        try
        {
            if (_app is not null)
            {
                return;
            }

            for (int attempt = 1; ; attempt++)
            {
                WebApplicationBuilder builder = Loopback.CreateBuilder(port: _port);
                builder.Services.Configure<HostOptions>(static o => o.ShutdownTimeout = TimeSpan.Zero); // a kill, not a drain
                WebApplication app = builder.Build();
                app.Run(_handler);
                try
                {
                    BaseAddress = await Loopback.StartAsync(app);
                }
                catch (IOException ex) when (attempt < BindAttempts && ex.InnerException is SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse })
                {
                    await app.DisposeAsync();
                    await Task.Delay(BindRetryDelay);
                    continue;
                }

                _port = BaseAddress.Port;
                Volatile.Write(ref _app, app);
                Interlocked.Increment(ref _starts);
                return;
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Kills the server (if running).</summary>
    /// <returns>A task that completes when it is down.</returns>
    public async ValueTask DisposeAsync()
    {
        await KillAsync(counted: false);
        _gate.Dispose();
    }

    private static async Task StopAsync(WebApplication app)
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
