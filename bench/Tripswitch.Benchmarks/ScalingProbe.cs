using System.Diagnostics;
using System.Globalization;
using Polly;
using Polly.CircuitBreaker;

namespace Tripswitch.Benchmarks;

/// <summary>
/// A cross-check of <see cref="ContentionBenchmarks"/> outside BenchmarkDotNet (<c>--scaling</c>): the same shape
/// (persistent workers parked on a barrier, 2^20 calls per batch split between them, one shared breaker), reporting the
/// best batch of many for 1 and 2 threads. Best-of is less sensitive to a noisy machine than BenchmarkDotNet's mean.
/// </summary>
internal static class ScalingProbe
{
    private const int Calls = 1 << 20;
    private const int Batches = 200;
    private const int Warmup = 20;

    public static int Run()
    {
        Func<int> callback = Callbacks.Sync;
        var breaker = new CircuitBreaker();
        ResiliencePipeline polly = new ResiliencePipelineBuilder().AddCircuitBreaker(new CircuitBreakerStrategyOptions()).Build();
        (string Name, Func<int, long> Batch)[] rows =
        [
            ("direct call", calls => Loop(calls, callback)),
            ("Tripswitch Execute", calls => Loop(calls, () => breaker.Execute(callback))),
            ("Polly Execute", calls => Loop(calls, () => polly.Execute(callback))),
        ];

        Console.WriteLine("| row | 1 thread (ns/call) | 2 threads (ns/call, aggregate) | scaling |");
        Console.WriteLine("| --- | ---: | ---: | ---: |");
        foreach ((string name, Func<int, long> batch) in rows)
        {
            double one = Best(1, batch);
            double two = Best(2, batch);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {one:F2} | {two:F2} | {one / two:F2}x |"));
        }

        return 0;
    }

    private static long Loop(int calls, Func<int> call)
    {
        long sum = 0;
        for (int i = 0; i < calls; i++)
        {
            sum += call();
        }

        return sum;
    }

    private static double Best(int threads, Func<int, long> batch)
    {
        using var barrier = new Barrier(threads + 1);
        bool stop = false;
        Thread[] workers = Enumerable.Range(0, threads).Select(_ => new Thread(() =>
        {
            while (true)
            {
                barrier.SignalAndWait();
                if (Volatile.Read(ref stop))
                {
                    return;
                }

                batch(Calls / threads);
                barrier.SignalAndWait();
            }
        })).ToArray();
        foreach (Thread worker in workers)
        {
            worker.Start();
        }

        double best = double.MaxValue;
        for (int i = 0; i < Batches; i++)
        {
            long start = Stopwatch.GetTimestamp();
            barrier.SignalAndWait();
            barrier.SignalAndWait();
            double perCall = Stopwatch.GetElapsedTime(start).TotalNanoseconds / Calls;
            if (i >= Warmup)
            {
                best = Math.Min(best, perCall);
            }
        }

        Volatile.Write(ref stop, true);
        barrier.SignalAndWait();
        foreach (Thread worker in workers)
        {
            worker.Join();
        }

        return best;
    }
}
