using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using BenchmarkDotNet.Attributes;
using Tripswitch.Redis;

namespace Tripswitch.Benchmarks;

/// <summary>
/// The closed-state hot path with Redis sharing on: a breaker of a registry attached to <see cref="RedisCircuitSharing"/>
/// (outcomes reported in the background every 50 ms) against the same breaker without sharing.
/// Target: &lt;= 2x the local-only cost, 0 B per call. Starts its own redis-server on a free loopback port.
/// </summary>
[MemoryDiagnoser]
public class RedisSharingBenchmarks
{
    private Func<int> _callback = null!;
    private CircuitBreaker _local = null!;
    private CircuitBreaker _shared = null!;
    private RedisCircuitSharing? _sharing;
    private Process? _redis;
    private string? _directory;

    [GlobalSetup]
    public void Setup()
    {
        _callback = Callbacks.Sync;
        _local = new CircuitBreakerRegistry().Get("openai/gpt-4.1");

        int port = FreePort();
        _directory = Directory.CreateTempSubdirectory("tripswitch-bench-redis").FullName;
        _redis = Process.Start(new ProcessStartInfo("redis-server", $"--port {port} --bind 127.0.0.1 --save \"\" --appendonly no --dir {_directory}")
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        }) ?? throw new InvalidOperationException("redis-server did not start (install it: apt-get install -y redis-server)");
        _redis.OutputDataReceived += (_, _) => { };
        _redis.BeginOutputReadLine();

        Callbacks.Require(SpinWait.SpinUntil(() => Accepts(port), TimeSpan.FromSeconds(10)), "redis-server accepts connections");
        var registry = new CircuitBreakerRegistry();
        _sharing = RedisCircuitSharing.ConnectAsync(registry, $"127.0.0.1:{port}").GetAwaiter().GetResult();
        _shared = registry.Get("openai/gpt-4.1");

        Callbacks.Require(!_sharing.IsDegraded && _shared.Machine.Coordinator is not null, "the breaker is shared through a live Redis");
        Callbacks.Require(_shared.Execute(_callback) == Callbacks.Value && _local.Execute(_callback) == Callbacks.Value, "both breakers are closed and run the callback");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _sharing?.Dispose();
        if (_redis is { HasExited: false })
        {
            _redis.Kill();
            _redis.WaitForExit();
        }

        _redis?.Dispose();
        if (_directory is not null)
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [Benchmark(Baseline = true)]
    public int LocalOnly_Execute() => _local.Execute(_callback);

    [Benchmark]
    [ComparedTo(nameof(LocalOnly_Execute), AtLeast = 0.5)] // shared cost <= 2x the local-only cost
    public int RedisShared_Execute() => _shared.Execute(_callback);

    private static bool Accepts(int port)
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
