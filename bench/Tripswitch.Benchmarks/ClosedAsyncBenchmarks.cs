using BenchmarkDotNet.Attributes;
using Polly;
using Polly.CircuitBreaker;

namespace Tripswitch.Benchmarks;

/// <summary>
/// The closed-state hot path, asynchronous (<see cref="ValueTask{TResult}"/>): one successful call through a breaker
/// that stays closed. Target: Tripswitch &lt;= 1/8 of Polly's time, 0 B.
/// </summary>
/// <remarks>
/// The callback (<see cref="Callbacks.Async"/>) completes synchronously, as a cached or fast dependency does, so the
/// rows measure the wrappers rather than the thread pool. Every row returns the wrapper's <see cref="ValueTask{TResult}"/>
/// and BenchmarkDotNet consumes it the same way for each.
/// </remarks>
[MemoryDiagnoser]
public class ClosedAsyncBenchmarks
{
    private Func<CancellationToken, ValueTask<int>> _callback = null!;
    private CircuitBreaker _breaker = null!;
    private ResiliencePipeline _polly = null!;

    [GlobalSetup]
    public void Setup()
    {
        _callback = Callbacks.Async;
        _breaker = new CircuitBreaker();
        _polly = new ResiliencePipelineBuilder().AddCircuitBreaker(new CircuitBreakerStrategyOptions()).Build();

        Callbacks.Require(_breaker.ExecuteAsync(_callback, CancellationToken.None).AsTask().GetAwaiter().GetResult() == Callbacks.Value, "Tripswitch breaker runs the callback");
        Callbacks.Require(_polly.ExecuteAsync(_callback, CancellationToken.None).AsTask().GetAwaiter().GetResult() == Callbacks.Value, "Polly pipeline runs the callback");
    }

    /// <summary>The callback alone, through the same delegate.</summary>
    [Benchmark(Baseline = true)]
    public ValueTask<int> DirectCall() => _callback(CancellationToken.None);

    /// <summary>Tripswitch: <c>ExecuteAsync&lt;T&gt;(Func&lt;CancellationToken, ValueTask&lt;T&gt;&gt;, CancellationToken)</c>.</summary>
    [Benchmark]
    [ComparedTo(nameof(Polly_ExecuteAsync), AtLeast = 8)]
    public ValueTask<int> Tripswitch_ExecuteAsync() => _breaker.ExecuteAsync(_callback, CancellationToken.None);

    /// <summary>Polly v8, default circuit breaker: <c>ExecuteAsync&lt;T&gt;(Func&lt;CancellationToken, ValueTask&lt;T&gt;&gt;, CancellationToken)</c>.</summary>
    [Benchmark]
    public ValueTask<int> Polly_ExecuteAsync() => _polly.ExecuteAsync(_callback, CancellationToken.None);
}
