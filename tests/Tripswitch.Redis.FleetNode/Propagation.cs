using System.Globalization;
using System.Text;
using StackExchange.Redis;
using Tripswitch.Testing;
using Tripswitch.Testing.Redis;

namespace Tripswitch.Redis.FleetNode;

/// <summary>
/// Measures how long a trip takes to reach the other instances: N registries with their own Redis connections share a
/// circuit; the time from the failure on one to each other's breaker turning Open (from then on it rejects) is recorded.
/// </summary>
internal static class Propagation
{
    private const string Reproduce = "dotnet run -c Release --project tests/Tripswitch.Redis.FleetNode -- measure --trips 100 --instances 10 --out bench/results/redis-propagation.md";
    private static readonly TimeSpan RoundTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan ReportInterval = TimeSpan.FromMilliseconds(50);

    public static async Task<int> RunAsync(CommandLine options)
    {
        int trips = options.Int("trips", 200);
        int instances = options.Int("instances", 10);
        if (trips < 1 || instances < 2)
        {
            throw new ArgumentException("--trips must be at least 1 and --instances at least 2");
        }

        await using RedisServer? own = options.Get("redis") is null ? await Measurement.StartRedisAsync(" or pass --redis host:port") : null;
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
        report.AppendLine(Measurement.MeasuredOn(server));
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
        return await Measurement.PublishAsync(report, Reproduce, "starts its own redis-server on a free loopback port; `--redis host:port` uses an existing one", options);
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
        await Eventually.True(async () => await SubscribersAsync(db, prefix + "events") == breakers.Count, "every instance subscribed");

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
            await Eventually.True(async () => breakers.All(breaker => breaker.State == CircuitState.Closed)
                && (string?)await db.HashGetAsync(hash, "st") == "0" && (string?)await db.HashGetAsync(hash, "cf") == "0", "closed everywhere");

            for (int i = 0; i < observers.Length; i++)
            {
                Volatile.Write(ref opened[i], new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously));
            }

            long start;
            if (splitFailures)
            {
                TestBreakers.Fail(a);
                await Eventually.True(async () => (string?)await db.HashGetAsync(hash, "cf") == "1", "A's failure reported");
                start = TimeProvider.System.GetTimestamp();
                TestBreakers.Fail(b);
            }
            else
            {
                start = TimeProvider.System.GetTimestamp();
                TestBreakers.Fail(a);
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
}
