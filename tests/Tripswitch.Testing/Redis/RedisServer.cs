using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;

namespace Tripswitch.Testing.Redis;

/// <summary>What a test needs of its own redis-server beyond the defaults.</summary>
public sealed record RedisServerOptions
{
    /// <summary>Started with <c>--requirepass</c>.</summary>
    public string? Password { get; init; }

    /// <summary>Serve TLS only (<c>--port 0 --tls-port N</c>) with this certificate and key (PEM files).</summary>
    public (string Certificate, string Key)? Tls { get; init; }

    /// <summary>More arguments for redis-server (e.g. the cluster settings of <see cref="RedisCluster"/>).</summary>
    public IReadOnlyList<string> Arguments { get; init; } = [];
}

/// <summary>
/// A real redis-server on a free loopback port in a temporary directory, without persistence
/// (<c>--port N --bind 127.0.0.1 --save "" --appendonly no --dir tmp</c>). Ready once it answers PING.
/// It can be killed (SIGKILL) and started again on the same port.
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan ReadyPollInterval = TimeSpan.FromMilliseconds(20);
    private const int PortAttempts = 5;

    private readonly RedisServerOptions _options;
    private readonly DirectoryInfo _directory;
    private readonly StringBuilder _log = new();
    private Process? _process;

    private RedisServer(RedisServerOptions options, DirectoryInfo directory, int port)
    {
        _options = options;
        _directory = directory;
        Port = port;
    }

    /// <summary>The redis-server executable, or <see langword="null"/> when it is not installed.</summary>
    public static string? Executable { get; } = Locate();

    /// <summary>The loopback port it listens on.</summary>
    public int Port { get; }

    /// <summary>"127.0.0.1:port".</summary>
    public string Endpoint => $"127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>A StackExchange.Redis configuration string for this server (with its password).</summary>
    public string Configuration => _options.Password is { } password ? $"{Endpoint},password={password}" : Endpoint;

    /// <summary>Whether the process is running.</summary>
    public bool IsRunning => _process is { HasExited: false };

    /// <summary>The server's own output so far (for failure messages).</summary>
    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    /// <summary>
    /// Skips the calling test when redis-server is not installed, or fails it when TRIPSWITCH_REQUIRE_INTEGRATION=1:
    /// a missing component is never a pass.
    /// </summary>
    public static void RequireInstalled()
    {
        if (Executable is null)
        {
            IntegrationRequirement.Missing("redis-server is not installed (Debian/Ubuntu: apt-get install -y redis-server; ./test.sh installs it when run as root).");
        }
    }

    /// <summary>Starts a server on a free port (skipping the test when redis-server is not installed).</summary>
    /// <param name="options">What the test needs beyond the defaults.</param>
    /// <returns>The running server.</returns>
    public static async Task<RedisServer> StartNewAsync(RedisServerOptions? options = null)
    {
        Exception? last = null;
        for (int attempt = 0; attempt < PortAttempts; attempt++)
        {
            RedisServer server = Create(options);
            try
            {
                await server.StartAsync();
                return server;
            }
            catch (InvalidOperationException ex)
            {
                // Another process took the port between choosing and binding it: try another one.
                last = ex;
                await server.DisposeAsync();
            }
        }

        throw new InvalidOperationException($"redis-server did not start in {PortAttempts} attempts.", last);
    }

    /// <summary>A server on a free port that is not started yet (nothing listens there until <see cref="StartAsync()"/>).</summary>
    /// <param name="options">What the test needs beyond the defaults.</param>
    /// <param name="port">The port; a free one when <see langword="null"/>.</param>
    /// <returns>The server, not started.</returns>
    public static RedisServer Create(RedisServerOptions? options = null, int? port = null)
    {
        RequireInstalled();
        return new RedisServer(options ?? new RedisServerOptions(), Directory.CreateTempSubdirectory("tripswitch-redis-"), port ?? FreePort());
    }

    /// <summary>The server's temporary working directory (deleted on dispose).</summary>
    public string DirectoryPath => _directory.FullName;

    /// <summary>Kills the server at once (SIGKILL, as a crash) and waits until it is gone.</summary>
    /// <returns>A task that completes when the process has exited.</returns>
    public Task KillAsync() => StopAsync();

    /// <summary>Starts the server on its port (again, after <see cref="KillAsync"/>: with an empty data set) and waits until it answers PING.</summary>
    /// <returns>A task that completes when the server answers.</returns>
    public async Task StartAsync()
    {
        if (IsRunning)
        {
            throw new InvalidOperationException("The server is running.");
        }

        var start = new ProcessStartInfo(Executable!)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = _directory.FullName,
        };
        string port = Port.ToString(CultureInfo.InvariantCulture);
        List<string> args = _options.Tls is { } tls
            ? ["--port", "0", "--tls-port", port, "--tls-cert-file", tls.Certificate, "--tls-key-file", tls.Key, "--tls-ca-cert-file", tls.Certificate, "--tls-auth-clients", "no"]
            : ["--port", port];
        args.AddRange(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", _directory.FullName]);
        if (_options.Password is { } password)
        {
            args.AddRange(["--requirepass", password]);
        }

        args.AddRange(_options.Arguments);

        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        Process process = Process.Start(start) ?? throw new InvalidOperationException("redis-server did not start.");
        process.OutputDataReceived += OnOutput;
        process.ErrorDataReceived += OnOutput;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;

        long started = TimeProvider.System.GetTimestamp();
        while (!await AnswersPingAsync())
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"redis-server exited with code {process.ExitCode}: {Log}");
            }

            if (TimeProvider.System.GetElapsedTime(started) > StartTimeout)
            {
                throw new TimeoutException($"redis-server did not answer PING on {Endpoint} within {StartTimeout}: {Log}");
            }

            await Task.Delay(ReadyPollInterval);
        }
    }

    private void OnOutput(object sender, DataReceivedEventArgs e)
    {
        if (e.Data is not null)
        {
            lock (_log)
            {
                _log.AppendLine(e.Data);
            }
        }
    }

    /// <summary>Sends PING (over TLS when the server serves TLS); "+PONG" or "-NOAUTH" (password required) both mean it is up.</summary>
    private async Task<bool> AnswersPingAsync()
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, Port);
            Stream stream = client.GetStream();
            if (_options.Tls is not null)
            {
#pragma warning disable CA5359 // Readiness only: the tests themselves connect with the certificate validated.
                var ssl = new SslStream(stream, leaveInnerStreamOpen: false, static (_, _, _, _) => true);
#pragma warning restore CA5359
                await ssl.AuthenticateAsClientAsync("127.0.0.1");
                stream = ssl;
            }

            await using (stream)
            {
                await stream.WriteAsync("PING\r\n"u8.ToArray());
                byte[] buffer = new byte[128];
                int read = await stream.ReadAsync(buffer);
                string answer = Encoding.ASCII.GetString(buffer, 0, read);
                return answer.StartsWith("+PONG", StringComparison.Ordinal) || answer.StartsWith("-NOAUTH", StringComparison.Ordinal);
            }
        }
        catch (Exception ex) when (ex is SocketException or IOException or System.Security.Authentication.AuthenticationException)
        {
            return false;
        }
    }

    private async Task StopAsync()
    {
        Process? process = _process;
        _process = null;
        if (process is null)
        {
            return;
        }

        if (!process.HasExited)
        {
            process.Kill();
        }

        await process.WaitForExitAsync();
        process.Dispose();
    }

    /// <summary>Kills the server and deletes its directory.</summary>
    /// <returns>A task that completes when it is gone.</returns>
    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        try
        {
            _directory.Delete(recursive: true);
        }
        catch (IOException)
        {
            // A temporary directory left behind is harmless.
        }
    }

    /// <summary>A port nothing listens on now (the system's choice on loopback).</summary>
    /// <returns>The port.</returns>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string? Locate()
    {
        if (Environment.GetEnvironmentVariable("TRIPSWITCH_REDIS_SERVER") is { Length: > 0 } configured)
        {
            return File.Exists(configured) ? configured : null;
        }

        return OnPath("redis-server");
    }

    /// <summary>An executable of the redis packages found on PATH (or in the usual directories).</summary>
    internal static string? OnPath(string name) => IntegrationRequirement.FindExecutable(name, "/usr/bin", "/usr/local/bin", "/usr/sbin");
}
