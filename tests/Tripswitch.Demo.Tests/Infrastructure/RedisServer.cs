using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Tripswitch.Demo.Tests.Infrastructure;

/// <summary>
/// A real redis-server on a free loopback port in a temporary directory, without persistence. Ready once it logs that
/// it accepts connections. Missing: the test is skipped with the reason, or fails when TRIPSWITCH_REQUIRE_INTEGRATION=1.
/// </summary>
internal sealed class RedisServer : IAsyncDisposable
{
    public const string DefaultPath = "/usr/bin/redis-server";

    private static readonly TimeSpan s_startTimeout = TimeSpan.FromSeconds(20);

    private readonly Process _process;
    private readonly DirectoryInfo _directory;
    private readonly StringBuilder _log = new();

    private RedisServer(Process process, DirectoryInfo directory, int port)
    {
        _process = process;
        _directory = directory;
        Port = port;
    }

    public int Port { get; }

    /// <summary>A StackExchange.Redis configuration string: <c>127.0.0.1:PORT</c>.</summary>
    public string Configuration => "127.0.0.1:" + Port.ToString(CultureInfo.InvariantCulture);

    /// <summary>The executable (<c>TRIPSWITCH_REDIS_SERVER</c> names another), or skips the test (fails it when integration is required).</summary>
    public static string RequireInstalled()
    {
        string path = Environment.GetEnvironmentVariable("TRIPSWITCH_REDIS_SERVER") is { Length: > 0 } configured ? configured : DefaultPath;
        if (!File.Exists(path))
        {
            string reason = $"redis-server is not installed at {path} (Debian/Ubuntu: apt-get install -y redis-server; TRIPSWITCH_REDIS_SERVER names another executable).";
            if (Environment.GetEnvironmentVariable("TRIPSWITCH_REQUIRE_INTEGRATION") == "1")
            {
                Assert.Fail(reason + " TRIPSWITCH_REQUIRE_INTEGRATION=1 makes a missing component a failure.");
            }

            Assert.Skip(reason);
        }

        return path;
    }

    public static async Task<RedisServer> StartAsync()
    {
        string executable = RequireInstalled();
        for (int attempt = 1; ; attempt++)
        {
            DirectoryInfo directory = Directory.CreateTempSubdirectory("tripswitch-demo-redis-");
            int port = FreePort();
            var start = new ProcessStartInfo(executable)
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                WorkingDirectory = directory.FullName,
            };
            foreach (string arg in new[] { "--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", directory.FullName })
            {
                start.ArgumentList.Add(arg);
            }

            Process process = Process.Start(start) ?? throw new InvalidOperationException("redis-server did not start.");
            var server = new RedisServer(process, directory, port);
            if (await server.WaitReadyAsync())
            {
                return server;
            }

            string log = server.Log;
            await server.DisposeAsync();
            if (attempt == 3)
            {
                throw new InvalidOperationException($"redis-server did not start on a free port in 3 attempts: {log}");
            }

            // Another process took the port between choosing and binding it: try another one.
        }
    }

    private string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    /// <summary>Waits for "Ready to accept connections" (true) or the process's exit (false).</summary>
    private async Task<bool> WaitReadyAsync()
    {
        var ready = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnLine(object sender, DataReceivedEventArgs e)
        {
            if (e.Data is null)
            {
                return;
            }

            lock (_log)
            {
                _log.AppendLine(e.Data);
            }

            if (e.Data.Contains("Ready to accept connections", StringComparison.Ordinal))
            {
                ready.TrySetResult(true);
            }
        }

        _process.OutputDataReceived += OnLine;
        _process.ErrorDataReceived += OnLine;
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        Task exited = _process.WaitForExitAsync();
        Task first = await Task.WhenAny(ready.Task, exited).WaitAsync(s_startTimeout);
        return first == ready.Task;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
        }

        await _process.WaitForExitAsync();
        _process.Dispose();
        try
        {
            _directory.Delete(recursive: true);
        }
        catch (IOException)
        {
            // A temporary directory left behind is harmless.
        }
    }
}
