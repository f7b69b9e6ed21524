using System.Globalization;
using Polly;
using Polly.CircuitBreaker;
using Polly.Registry;

namespace Tripswitch.Benchmarks;

/// <summary>
/// Heap bytes per circuit (<c>--memory</c>): a registry of <see cref="Circuits"/> circuits, each called once by every
/// one of T threads, against Polly v8's <see cref="ResiliencePipelineRegistry{TKey}"/> with one circuit breaker per key.
/// </summary>
/// <remarks>
/// Every measurement runs in a fresh child process (so no thread index, JIT state or pool of an earlier measurement
/// is counted): it creates the keys, takes <see cref="GC.GetTotalMemory(bool)"/> after a full collection, makes T
/// threads call every circuit once, joins them, and takes the heap again with the registry and the keys still
/// reachable. The keys are allocated before the first reading, so they are not counted on either side. The callback
/// is the benchmarks' cached static lambda, so it allocates nothing. Live threads are not what is measured, so the
/// workers end before the second reading; counter memory that outlives its threads (what issue 11 is about) remains.
/// </remarks>
internal static class MemoryProbe
{
    private const int Circuits = 20_000;
    private static readonly int[] s_threadCounts = [1, 8, 32, 128];

    public static int Run(string[] args)
    {
        if (args.Length == 3 && args[0] == "--memory-child")
        {
            // Child: one measurement, printed as a single number of bytes per circuit.
            int threads = int.Parse(args[2], CultureInfo.InvariantCulture);
            double bytes = args[1] == "tripswitch" ? MeasureTripswitch(threads) : MeasurePolly(threads);
            Console.WriteLine(bytes.ToString("F0", CultureInfo.InvariantCulture));
            return 0;
        }

        Console.WriteLine($"| threads | Tripswitch (B/circuit) | Polly v8 registry (B/circuit) |");
        Console.WriteLine("| ---: | ---: | ---: |");
        foreach (int threads in s_threadCounts)
        {
            string tripswitch = RunChild("tripswitch", threads);
            string polly = RunChild("polly", threads);
            Console.WriteLine($"| {threads} | {tripswitch} | {polly} |");
        }

        return 0;
    }

    private static string RunChild(string library, int threads)
    {
        string self = Environment.ProcessPath ?? throw new InvalidOperationException("The process path is unknown.");
        var start = new System.Diagnostics.ProcessStartInfo(self) { RedirectStandardOutput = true, UseShellExecute = false };

        // `dotnet run` starts the apphost; when started as `dotnet Tripswitch.Benchmarks.dll`, pass the dll again.
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            start.ArgumentList.Add(typeof(MemoryProbe).Assembly.Location);
        }

        start.ArgumentList.Add("--memory-child");
        start.ArgumentList.Add(library);
        start.ArgumentList.Add(threads.ToString(CultureInfo.InvariantCulture));
        using var child = System.Diagnostics.Process.Start(start)!;
        string output = child.StandardOutput.ReadToEnd().Trim();
        child.WaitForExit();
        if (child.ExitCode != 0 || !double.TryParse(output, CultureInfo.InvariantCulture, out double bytes))
        {
            throw new InvalidOperationException($"The {library} measurement at {threads} threads failed: {output}");
        }

        return bytes.ToString("N0", CultureInfo.InvariantCulture);
    }

    private static double MeasureTripswitch(int threads)
    {
        string[] keys = Keys();
        Func<int> callback = Callbacks.Sync;
        long before = GC.GetTotalMemory(forceFullCollection: true);
        var registry = new CircuitBreakerRegistry(new CircuitBreakerRegistryOptions { Capacity = Circuits });
        CallFromThreads(threads, keys, key => registry.Get(key).Execute(callback));
        long after = GC.GetTotalMemory(forceFullCollection: true);
        Callbacks.Require(registry.Count == Circuits, "every circuit is still in the registry");
        GC.KeepAlive(keys);
        return (after - before) / (double)Circuits;
    }

    private static double MeasurePolly(int threads)
    {
        string[] keys = Keys();
        Func<int> callback = Callbacks.Sync;
        long before = GC.GetTotalMemory(forceFullCollection: true);
        var registry = new ResiliencePipelineRegistry<string>();
        CallFromThreads(threads, keys, key => registry
            .GetOrAddPipeline(key, static builder => builder.AddCircuitBreaker(new CircuitBreakerStrategyOptions()))
            .Execute(callback));
        long after = GC.GetTotalMemory(forceFullCollection: true);
        Callbacks.Require(registry.TryGetPipeline(keys[^1], out _), "every pipeline is still in the registry");
        GC.KeepAlive(registry);
        GC.KeepAlive(keys);
        return (after - before) / (double)Circuits;
    }

    private static string[] Keys() =>
        Enumerable.Range(0, Circuits).Select(i => string.Create(CultureInfo.InvariantCulture, $"tenant-{i}/endpoint")).ToArray();

    /// <summary>Every thread calls every key once; each starts at a different key so that threads overlap on circuits.</summary>
    private static void CallFromThreads(int threads, string[] keys, Func<string, int> call)
    {
        Thread[] workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            int start = t * keys.Length / threads;
            long sum = 0;
            for (int i = 0; i < keys.Length; i++)
            {
                sum += call(keys[(start + i) % keys.Length]);
            }

            Callbacks.Require(sum == (long)keys.Length * Callbacks.Value, "every call ran the callback");
        }) { IsBackground = true }).ToArray();

        foreach (Thread worker in workers)
        {
            worker.Start();
        }

        foreach (Thread worker in workers)
        {
            worker.Join();
        }
    }
}
