using BenchmarkDotNet.Attributes;
using Polly;
using Polly.CircuitBreaker;

namespace Tripswitch.Benchmarks;

/// <summary>
/// Aggregate throughput of <see cref="Threads"/> threads hammering one breaker in the closed state.
/// Targets: Tripswitch on 2 threads &gt;= 1.5x its 1-thread throughput ("Scaling" column) and &gt;= 10x Polly's
/// 2-thread throughput ("vs reference" column on the Threads=2 row).
/// </summary>
/// <remarks>
/// <para>
/// Every invocation makes <see cref="CallsPerInvocation"/> calls in total, split evenly over <see cref="Threads"/>
/// worker threads, so the reported time per operation is wall time per call of the whole group: the inverse of the
/// aggregate throughput. With perfect scaling the 2-thread row shows half the 1-thread row's time.
/// </para>
/// <para>
/// The workers are started once in [GlobalSetup] and park on a <see cref="Barrier"/>; an invocation releases them
/// through the barrier and waits on it for all to finish, so thread start-up is never measured. The invoking thread
/// blocks while the workers run, leaving the machine's cores to them. What remains per invocation (two barrier phases,
/// a few microseconds) is shared by every row and is under 0.1% of a Tripswitch batch.
/// </para>
/// </remarks>
[MemoryDiagnoser]
public class ContentionBenchmarks
{
    /// <summary>Calls per invocation, all threads together (divisible by every thread count).</summary>
    public const int CallsPerInvocation = 1 << 20;

    // Results are written 128 bytes apart so that the workers never share a cache line.
    private const int ResultStride = 16;

    private Func<int> _callback = null!;
    private CircuitBreaker _breaker = null!;
    private ResiliencePipeline _polly = null!;

    private Func<int, long> _directBatch = null!;
    private Func<int, long> _tripswitchBatch = null!;
    private Func<int, long> _pollyBatch = null!;

    private Thread[] _workers = [];
    private Barrier _barrier = null!;
    private long[] _results = [];
    private Func<int, long>? _work;
    private volatile bool _stopping;

    /// <summary>How many threads share the breaker.</summary>
    [Params(1, 2)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _callback = Callbacks.Sync;
        _breaker = new CircuitBreaker();
        _polly = new ResiliencePipelineBuilder().AddCircuitBreaker(new CircuitBreakerStrategyOptions()).Build();
        _directBatch = DirectBatch;
        _tripswitchBatch = TripswitchBatch;
        _pollyBatch = PollyBatch;

        _results = new long[(Threads + 1) * ResultStride];
        _barrier = new Barrier(Threads + 1);
        _workers = new Thread[Threads];
        for (int i = 0; i < Threads; i++)
        {
            _workers[i] = new Thread(WorkerLoop) { IsBackground = true, Name = $"bench-worker-{i}" };
            _workers[i].Start(i);
        }

        // One round of each, checked: every call ran the callback, and the breaker stayed closed.
        foreach (Func<int, long> work in new[] { _directBatch, _tripswitchBatch, _pollyBatch })
        {
            Run(work);
            long total = 0;
            for (int i = 0; i < Threads; i++)
            {
                total += _results[(i + 1) * ResultStride];
            }

            Callbacks.Require(total == (long)CallsPerInvocation * Callbacks.Value, "every worker made its share of the calls");
        }

        Callbacks.Require(_breaker.State == CircuitState.Closed, "Tripswitch breaker stays closed");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _stopping = true;
        _barrier.SignalAndWait(); // releases the parked workers, which see _stopping and exit
        foreach (Thread worker in _workers)
        {
            worker.Join();
        }

        _barrier.Dispose();
    }

    /// <summary>The callback alone on every thread: ideal scaling, the floor under every row.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = CallsPerInvocation)]
    public void DirectCall() => Run(_directBatch);

    [Benchmark(OperationsPerInvoke = CallsPerInvocation)]
    [ComparedTo(nameof(Polly_Execute), AtLeast = 10)]
    public void Tripswitch_Execute() => Run(_tripswitchBatch);

    [Benchmark(OperationsPerInvoke = CallsPerInvocation)]
    public void Polly_Execute() => Run(_pollyBatch);

    private void Run(Func<int, long> work)
    {
        _work = work;            // published to the workers by the barrier
        _barrier.SignalAndWait(); // start
        _barrier.SignalAndWait(); // wait until every worker finished its share
    }

    private void WorkerLoop(object? index)
    {
        int slot = ((int)index! + 1) * ResultStride;
        int calls = CallsPerInvocation / Threads;
        while (true)
        {
            _barrier.SignalAndWait();
            if (_stopping)
            {
                return;
            }

            _results[slot] = _work!(calls);
            _barrier.SignalAndWait();
        }
    }

    private long DirectBatch(int calls)
    {
        Func<int> callback = _callback;
        long sum = 0;
        for (int i = 0; i < calls; i++)
        {
            sum += callback();
        }

        return sum;
    }

    private long TripswitchBatch(int calls)
    {
        CircuitBreaker breaker = _breaker;
        Func<int> callback = _callback;
        long sum = 0;
        for (int i = 0; i < calls; i++)
        {
            sum += breaker.Execute(callback);
        }

        return sum;
    }

    private long PollyBatch(int calls)
    {
        ResiliencePipeline polly = _polly;
        Func<int> callback = _callback;
        long sum = 0;
        for (int i = 0; i < calls; i++)
        {
            sum += polly.Execute(callback);
        }

        return sum;
    }
}
