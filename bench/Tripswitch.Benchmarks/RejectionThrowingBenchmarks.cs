using BenchmarkDotNet.Attributes;
using Polly;
using Polly.CircuitBreaker;

namespace Tripswitch.Benchmarks;

/// <summary>
/// A call rejected by an open circuit with an exception, thrown and caught: Tripswitch's <c>Execute</c>
/// (<see cref="CircuitOpenException"/>) against Polly's <c>Execute</c> (<see cref="BrokenCircuitException"/>).
/// Target: Tripswitch no worse than Polly (ratio &gt;= 1).
/// </summary>
[MemoryDiagnoser]
public class RejectionThrowingBenchmarks
{
    private Func<int> _callback = null!;
    private CircuitBreaker _open = null!;
    private CircuitBreaker _isolated = null!;
    private ResiliencePipeline<int> _pollyOpen = null!;
    private ResiliencePipeline<int> _pollyIsolated = null!;

    [GlobalSetup]
    public void Setup()
    {
        _callback = Callbacks.Sync;
        _open = OpenCircuits.TripswitchOpen();
        _isolated = OpenCircuits.TripswitchIsolated();
        _pollyOpen = OpenCircuits.PollyOpen();
        _pollyIsolated = OpenCircuits.PollyIsolated();
        Callbacks.Require(Tripswitch_Execute_Open_Throws() == -1 && Tripswitch_Execute_Isolated_Throws() == -1, "Tripswitch throws CircuitOpenException");
        Callbacks.Require(Polly_Execute_Open_Throws() == -1 && Polly_Execute_Isolated_Throws() == -1, "Polly throws BrokenCircuitException");
    }

    [Benchmark(Baseline = true)]
    public int DirectCall() => _callback();

    [Benchmark]
    [ComparedTo(nameof(Polly_Execute_Open_Throws), AtLeast = 1)]
    public int Tripswitch_Execute_Open_Throws() => Call(_open);

    [Benchmark]
    [ComparedTo(nameof(Polly_Execute_Isolated_Throws), AtLeast = 1)]
    public int Tripswitch_Execute_Isolated_Throws() => Call(_isolated);

    [Benchmark]
    public int Polly_Execute_Open_Throws() => Call(_pollyOpen);

    [Benchmark]
    public int Polly_Execute_Isolated_Throws() => Call(_pollyIsolated);

    private int Call(CircuitBreaker breaker)
    {
        try
        {
            return breaker.Execute(_callback);
        }
        catch (CircuitOpenException)
        {
            return -1;
        }
    }

    private int Call(ResiliencePipeline<int> pipeline)
    {
        try
        {
            return pipeline.Execute(_callback);
        }
        catch (BrokenCircuitException)
        {
            return -1;
        }
    }
}
