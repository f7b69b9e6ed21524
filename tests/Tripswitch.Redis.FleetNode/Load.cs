using System.Globalization;
using System.Text;
using StackExchange.Redis;
using Tripswitch.Testing;
using Tripswitch.Testing.Redis;

namespace Tripswitch.Redis.FleetNode;

/// <summary>
/// Measures the Redis load of one instance: commands and bytes per second on the server while N circuits are all active
/// (each called in every report interval), from the server's own counters (INFO commandstats and INFO stats deltas).
/// </summary>
internal static class Load
{
    private const string Reproduce = "dotnet run -c Release --project tests/Tripswitch.Redis.FleetNode -- load --circuits 1,100,10000 --seconds 10 --out bench/results/redis-load.md";
    private static readonly TimeSpan ReportInterval = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan Warmup = TimeSpan.FromSeconds(3);
    private static readonly Action Succeeding = static () => { };
    private static readonly Action Failing = static () => throw new TestFailureException();

    public static async Task<int> RunAsync(CommandLine options)
    {
        int[] counts = [.. (options.Get("circuits") ?? "1,100,10000").Split(',').Select(text => int.Parse(text, NumberStyles.None, CultureInfo.InvariantCulture))];
        int seconds = options.Int("seconds", 10);
        if (seconds < 1 || counts.Any(count => count < 1))
        {
            throw new ArgumentException("--seconds and every --circuits count must be at least 1");
        }

        await using RedisServer own = await Measurement.StartRedisAsync(".");
        await using ConnectionMultiplexer admin = await ConnectionMultiplexer.ConnectAsync(own.Endpoint + ",allowAdmin=true");
        IServer server = admin.GetServer(admin.GetEndPoints()[0]);

        var rows = new List<string>();
        foreach (int count in counts)
        {
            Console.Error.WriteLine($"measuring {count} active circuits for {seconds} s...");
            rows.Add(await MeasureAsync(own.Endpoint, server, count, TimeSpan.FromSeconds(seconds)));
        }

        var report = new StringBuilder();
        report.AppendLine("# Tripswitch.Redis — load per instance");
        report.AppendLine();
        report.AppendLine(Measurement.MeasuredOn(server));
        report.AppendLine(CultureInfo.InvariantCulture, $"One instance (`CircuitBreakerRegistry` + `RedisCircuitSharing.ConnectAsync`, default options: ReportInterval {ReportInterval.TotalMilliseconds} ms, ResyncInterval 1 s) whose circuits are all active: each is called once per report interval (successes, and a failure every 10th round, below the threshold).");
        report.AppendLine(CultureInfo.InvariantCulture, $"Counted by the server over {seconds} s after {Warmup.TotalSeconds} s of warm-up: the deltas of INFO commandstats (every command but INFO) and of INFO stats `total_net_input_bytes` / `total_net_output_bytes` (the measuring connection's two INFO replies included, a few KB).");
        report.AppendLine();
        report.AppendLine("| active circuits | script calls/s (the instance's commands) | commands/s run by Redis (those inside scripts included) | bytes/s in (to Redis) | bytes/s out (from Redis) | bytes in per active circuit per second |");
        report.AppendLine("| ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (string row in rows)
        {
            report.AppendLine(row);
        }

        report.AppendLine();
        report.AppendLine("The instance's commands stay flat: every report interval sends one batched script call (one per 500 circuits, pipelined: one round trip), and every resync interval one call reading at most 1,000 circuits; the subscription is the only other traffic.");
        report.AppendLine("A circuit's next report waits until its previous one is answered, so when Redis needs longer than a report interval for a batch (10,000 circuits), reports cover longer periods instead of piling up. Bytes and the work inside Redis grow with the circuits that had calls, since each report carries its counts.");
        report.AppendLine("Before the batching (issue 11): about 20,700 script calls per second from one instance with 1,000 busy circuits, and about 670/s from resyncs alone with 1,000 idle ones.");
        report.AppendLine();
        return await Measurement.PublishAsync(report, Reproduce, "starts its own redis-server on a free loopback port", options);
    }

    private static async Task<string> MeasureAsync(string redis, IServer server, int count, TimeSpan duration)
    {
        var defaults = new CircuitBreakerOptions { FailureThreshold = 1_000, RecoveryTimeout = TimeSpan.FromSeconds(30) };
        var registry = new CircuitBreakerRegistry(new CircuitBreakerRegistryOptions { Defaults = defaults, Capacity = Math.Max(count, 1_000) });
        var sharingOptions = new RedisCircuitOptions { KeyPrefix = $"load-{Guid.NewGuid():N}:", ReportInterval = ReportInterval };
        await using RedisCircuitSharing sharing = await RedisCircuitSharing.ConnectAsync(registry, redis, sharingOptions);
        CircuitBreaker[] circuits = [.. Enumerable.Range(0, count).Select(i => registry.Get("load/" + i.ToString(CultureInfo.InvariantCulture)))];

        using var stop = new CancellationTokenSource();
        Task callers = Task.Run(() => CallAsync(circuits, stop.Token));
        await Task.Delay(Warmup);
        (long commands, long scripts, long bytesIn, long bytesOut) before = await CountersAsync(server);
        long start = TimeProvider.System.GetTimestamp();
        await Task.Delay(duration);
        (long commands, long scripts, long bytesIn, long bytesOut) after = await CountersAsync(server);
        double elapsed = TimeProvider.System.GetElapsedTime(start).TotalSeconds;
        await stop.CancelAsync();
        await callers;

        return string.Create(
            CultureInfo.InvariantCulture,
            $"| {count:N0} | {(after.scripts - before.scripts) / elapsed:N1} | {(after.commands - before.commands) / elapsed:N1} | {(after.bytesIn - before.bytesIn) / elapsed:N0} | {(after.bytesOut - before.bytesOut) / elapsed:N0} | {(after.bytesIn - before.bytesIn) / elapsed / count:N1} |");
    }

    /// <summary>Calls every circuit once per report interval until stopped (a failure every 10th round, far below the threshold).</summary>
    private static async Task CallAsync(CircuitBreaker[] circuits, CancellationToken stop)
    {
        long round = 0;
        while (!stop.IsCancellationRequested)
        {
            bool fail = ++round % 10 == 0;
            foreach (CircuitBreaker circuit in circuits)
            {
                try
                {
                    circuit.Execute(fail ? Failing : Succeeding);
                }
                catch (TestFailureException)
                {
                }
            }

            try
            {
                await Task.Delay(ReportInterval, stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private static async Task<(long Commands, long Scripts, long BytesIn, long BytesOut)> CountersAsync(IServer server)
    {
        string text = (string)(await server.ExecuteAsync("INFO", "all"))!;
        long commands = 0, scripts = 0, bytesIn = 0, bytesOut = 0;
        foreach (string line in text.Split('\n', StringSplitOptions.TrimEntries))
        {
            if (line.StartsWith("cmdstat_", StringComparison.Ordinal) && !line.StartsWith("cmdstat_info:", StringComparison.Ordinal))
            {
                long calls = long.Parse(line[(line.IndexOf("calls=", StringComparison.Ordinal) + 6)..line.IndexOf(',', StringComparison.Ordinal)], CultureInfo.InvariantCulture);
                commands += calls;
                if (line.StartsWith("cmdstat_evalsha:", StringComparison.Ordinal) || line.StartsWith("cmdstat_eval:", StringComparison.Ordinal))
                {
                    scripts += calls;
                }
            }
            else if (line.StartsWith("total_net_input_bytes:", StringComparison.Ordinal))
            {
                bytesIn = long.Parse(line["total_net_input_bytes:".Length..], CultureInfo.InvariantCulture);
            }
            else if (line.StartsWith("total_net_output_bytes:", StringComparison.Ordinal))
            {
                bytesOut = long.Parse(line["total_net_output_bytes:".Length..], CultureInfo.InvariantCulture);
            }
        }

        return (commands, scripts, bytesIn, bytesOut);
    }
}
