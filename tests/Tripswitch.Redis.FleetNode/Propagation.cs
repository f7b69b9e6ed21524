using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using StackExchange.Redis;

namespace Tripswitch.Redis.FleetNode;

/// <summary>
/// Measures how long a trip takes to reach the other instances: N registries with their own Redis connections share a
/// circuit; the time from the failure on one to each other's breaker turning Open (from then on it rejects) is recorded.
/// </summary>
internal static class Propagation
{
    private const string Reproduce = "dotnet run -c Release --project tests/Tripswitch.Redis.FleetNode -- measure --trips 100 --instances 10 --out bench/results/redis-propagation.md";
    private static readonly TimeSpan RoundTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(1);
    private static readonly TimeSpan ReportInterval = TimeSpan.FromMilliseconds(50);

    public static async Task<int> RunAsync(CommandLine options)
    {
        int trips = options.Int("trips", 200);
        int instances = options.Int("instances", 10);
        if (trips < 1 || instances < 2)
        {
            throw new ArgumentException("--trips must be at least 1 and --instances at least 2");
        }

        await using LocalRedis? own = options.Get("redis") is null ? await LocalRedis.StartAsync() : null;
        string redis = options.Get("redis") ?? own!.Endpoint;
        await using ConnectionMultiplexer admin = await ConnectionMultiplexer.ConnectAsync(redis);
        IServer server = admin.GetServer(admin.GetEndPoints()[0]);
        string prefix = $"measure-{Guid.NewGuid():N}:";

        Console.Error.WriteLine($"measuring {trips} local trips...");
        double[] local = await MeasureAsync(redis, admin, prefix + "local:", trips, instances, splitFailures: false);
        Console.Error.WriteLine($"measuring {trips} fleet trips (failures split over two instances)...");
        double[] split = await MeasureAsync(redis, admin, prefix + "split:", trips, instances, splitFailures: true);

        var report = new StringBuilder();
        report.AppendLine("# Tripswitch.Redis — propagation delay");
        report.AppendLine();
        report.AppendLine(CultureInfo.InvariantCulture, $"Measured {TimeProvider.System.GetUtcNow():yyyy-MM-dd HH:mm} UTC on {Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}, .NET {Environment.Version}, redis-server {server.Version} on 127.0.0.1 (loopback).");
        report.AppendLine(CultureInfo.InvariantCulture, $"{instances} instances ({instances} `CircuitBreakerRegistry` + `RedisCircuitSharing.ConnectAsync`, each with its own connection) in one process, so every end reads the same clock;");
        report.AppendLine(CultureInfo.InvariantCulture, $"default `RedisCircuitOptions` (ReportInterval {ReportInterval.TotalMilliseconds} ms, ResyncInterval 1 s). One sample per trip and per other instance: the delay ends when that instance's breaker raises `StateChanged` to Open,");
        report.AppendLine("which happens after its state is Open, so it rejects from that moment (an upper bound of the time to the first rejection).");
        report.AppendLine();
        report.AppendLine("| path | samples (trips × instances) | p50 | p90 | p99 | max | mean |");
        report.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
        report.AppendLine(Row("local trip on A (FailureThreshold 1) → every other instance Open: Trip script + pub/sub", local));
        report.AppendLine(Row("fleet trip: 1 failure on A (already reported) + 1 on B (FailureThreshold 2) → every instance but B Open: batched report + pub/sub", split));
        report.AppendLine();
        report.AppendLine("The fleet-trip path includes the report batching: up to one ReportInterval before B's failure reaches Redis.");
        report.AppendLine();
        report.AppendLine("Reproduce (starts its own redis-server on a free loopback port; `--redis host:port` uses an existing one):");
        report.AppendLine();
        report.AppendLine("```sh");
        report.AppendLine(Reproduce);
        report.AppendLine("```");

        if (options.Get("out") is { } path)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            await File.WriteAllTextAsync(path, report.ToString());
            Console.Error.WriteLine($"wrote {path}");
        }

        Console.Write(report.ToString());
        return 0;
    }

    private static string Row(string path, double[] delays)
    {
        Array.Sort(delays);
        return string.Create(
            CultureInfo.InvariantCulture,
            $"| {path} | {delays.Length} | {Percentile(delays, 50):F2} ms | {Percentile(delays, 90):F2} ms | {Percentile(delays, 99):F2} ms | {delays[^1]:F2} ms | {delays.Average():F2} ms |");
    }

    /// <summary>Nearest-rank percentile of sorted values.</summary>
    private static double Percentile(double[] sorted, int percent)
        => sorted[Math.Clamp((int)Math.Ceiling(percent / 100.0 * sorted.Length) - 1, 0, sorted.Length - 1)];

    private static async Task<double[]> MeasureAsync(string redis, ConnectionMultiplexer admin, string prefix, int trips, int instances, bool splitFailures)
    {
        var defaults = new CircuitBreakerOptions
        {
            FailureThreshold = splitFailures ? 2 : 1,
            RecoveryTimeout = TimeSpan.FromMinutes(5),
            SuccessThreshold = 1,
        };
        var sharingOptions = new RedisCircuitOptions { KeyPrefix = prefix, ReportInterval = ReportInterval };
        var sharings = new List<RedisCircuitSharing>();
        var breakers = new List<CircuitBreaker>();
        const string Name = "propagation";
        try
        {
            for (int i = 0; i < instances; i++)
            {
                var registry = new CircuitBreakerRegistry(defaults);
                sharings.Add(await RedisCircuitSharing.ConnectAsync(registry, redis, sharingOptions));
                breakers.Add(registry.Get(Name));
            }

            return await MeasureAsync(admin, prefix, trips, breakers, splitFailures);
        }
        finally
        {
            foreach (RedisCircuitSharing sharing in sharings)
            {
                await sharing.DisposeAsync();
            }
        }
    }

    private static async Task<double[]> MeasureAsync(ConnectionMultiplexer admin, string prefix, int trips, List<CircuitBreaker> breakers, bool splitFailures)
    {
        (CircuitBreaker a, CircuitBreaker b) = (breakers[0], breakers[1]);
        IDatabase db = admin.GetDatabase();
        RedisKey hash = prefix + "{c:" + a.Name + "}"; // the layout of Tripswitch.Redis (RedisKeyLayout.Hash)
        await WaitAsync(async () => await SubscribersAsync(db, prefix + "events") == breakers.Count, "every instance subscribed");

        // The instances whose Open events end a measurement: all but A for a local trip on A, all but B for a fleet trip completed by B.
        CircuitBreaker tripper = splitFailures ? b : a;
        CircuitBreaker[] observers = [.. breakers.Where(breaker => breaker != tripper)];
        var opened = new TaskCompletionSource<long>[observers.Length];
        for (int i = 0; i < observers.Length; i++)
        {
            int index = i;
            observers[i].StateChanged += (_, transition) =>
            {
                if (transition.To == CircuitState.Open)
                {
                    Volatile.Read(ref opened[index])?.TrySetResult(TimeProvider.System.GetTimestamp());
                }
            };
        }

        var delays = new List<double>(trips * observers.Length);
        const int Warmup = 5;
        for (int round = 0; round < trips + Warmup; round++)
        {
            a.Reset();
            await WaitAsync(async () => breakers.All(breaker => breaker.State == CircuitState.Closed)
                && (string?)await db.HashGetAsync(hash, "st") == "0" && (string?)await db.HashGetAsync(hash, "cf") == "0", "closed everywhere");

            for (int i = 0; i < observers.Length; i++)
            {
                Volatile.Write(ref opened[i], new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously));
            }

            long start;
            if (splitFailures)
            {
                Fail(a);
                await WaitAsync(async () => (string?)await db.HashGetAsync(hash, "cf") == "1", "A's failure reported");
                start = TimeProvider.System.GetTimestamp();
                Fail(b);
            }
            else
            {
                start = TimeProvider.System.GetTimestamp();
                Fail(a);
            }

            long[] ends = await Task.WhenAll(opened.Select(task => task.Task)).WaitAsync(RoundTimeout);
            foreach (CircuitBreaker observer in observers)
            {
                if (observer.TryAcquirePermit(out CircuitPermit permit, out _))
                {
                    permit.RecordIgnored();
                    throw new InvalidOperationException("An observing instance did not reject after turning Open.");
                }
            }

            if (round >= Warmup)
            {
                delays.AddRange(ends.Select(end => TimeProvider.System.GetElapsedTime(start, end).TotalMilliseconds));
            }
        }

        return [.. delays];
    }

    private static async Task<long> SubscribersAsync(IDatabase db, string channel)
    {
        RedisResult result = await db.ExecuteAsync("PUBSUB", "NUMSUB", channel);
        return (long)result[1];
    }

    private static void Fail(CircuitBreaker breaker)
    {
        try
        {
            breaker.Execute(static () => throw new SimulatedFailureException());
        }
        catch (SimulatedFailureException)
        {
        }
    }

    private static async Task WaitAsync(Func<Task<bool>> condition, string what)
    {
        long start = TimeProvider.System.GetTimestamp();
        while (!await condition())
        {
            if (TimeProvider.System.GetElapsedTime(start) > RoundTimeout)
            {
                throw new TimeoutException($"Timed out waiting for: {what}.");
            }

            await Task.Delay(PollInterval);
        }
    }
}

/// <summary>A throwaway redis-server on a free loopback port (no persistence), for the measurement.</summary>
internal sealed class LocalRedis : IAsyncDisposable
{
    private readonly Process _process;
    private readonly DirectoryInfo _directory;

    private LocalRedis(Process process, DirectoryInfo directory, int port)
    {
        _process = process;
        _directory = directory;
        Endpoint = $"127.0.0.1:{port}";
    }

    public string Endpoint { get; }

    public static async Task<LocalRedis> StartAsync()
    {
        string executable = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, "redis-server"))
            .FirstOrDefault(File.Exists)
            ?? throw new ArgumentException("redis-server is not on PATH; install it (apt-get install -y redis-server) or pass --redis host:port");
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        DirectoryInfo directory = Directory.CreateTempSubdirectory("tripswitch-measure-");
        var start = new ProcessStartInfo(executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in (string[])["--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", directory.FullName])
        {
            start.ArgumentList.Add(arg);
        }

        Process process = Process.Start(start)!;
        process.OutputDataReceived += static (_, _) => { };
        process.ErrorDataReceived += static (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var redis = new LocalRedis(process, directory, port);
        long started = TimeProvider.System.GetTimestamp();
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port);
                NetworkStream stream = client.GetStream();
                await stream.WriteAsync("PING\r\n"u8.ToArray());
                byte[] buffer = new byte[64];
                int read = await stream.ReadAsync(buffer);
                if (Encoding.ASCII.GetString(buffer, 0, read).StartsWith("+PONG", StringComparison.Ordinal))
                {
                    return redis;
                }
            }
            catch (SocketException) when (TimeProvider.System.GetElapsedTime(started) < TimeSpan.FromSeconds(10) && !process.HasExited)
            {
            }

            await Task.Delay(TimeSpan.FromMilliseconds(20));
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        _directory.Delete(recursive: true);
    }
}
