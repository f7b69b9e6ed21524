using BenchmarkDotNet.Attributes;
using Polly;
using Polly.CircuitBreaker;

namespace Tripswitch.Benchmarks;

/// <summary>
/// The closed-state hot path, synchronous: one successful call through a breaker that stays closed.
/// Targets: Tripswitch (consecutive rule) &lt;= 1/15 of Polly's time and 0 B; time-window rule &lt;= 1/8; telemetry on
/// &lt;= 2x telemetry off.
/// </summary>
/// <remarks>
/// Same callback (<see cref="Callbacks.Sync"/>) in every row. Polly is built exactly as its docs show, with the
/// default <see cref="CircuitBreakerStrategyOptions"/> (a failure-ratio rule over a 30 s sampling window); Tripswitch
/// is <c>new CircuitBreaker()</c> with its defaults (5 consecutive failures).
/// </remarks>
[MemoryDiagnoser]
public class ClosedSyncBenchmarks
{
    private Func<int> _callback = null!;
    private CircuitBreaker _breaker = null!;
    private ResiliencePipeline _polly = null!;

    [GlobalSetup(Targets = [nameof(DirectCall), nameof(Tripswitch_Execute), nameof(Tripswitch_Permit), nameof(Polly_Execute)])]
    public void Setup()
    {
        _callback = Callbacks.Sync;
        _breaker = new CircuitBreaker();
        _polly = new ResiliencePipelineBuilder().AddCircuitBreaker(new CircuitBreakerStrategyOptions()).Build();

        Callbacks.Require(_breaker.Execute(_callback) == Callbacks.Value && _breaker.State == CircuitState.Closed, "Tripswitch breaker is closed and runs the callback");
        Callbacks.Require(_polly.Execute(_callback) == Callbacks.Value, "Polly pipeline runs the callback");
    }

    /// <summary>The callback alone, through the same delegate: the floor under every row.</summary>
    [Benchmark(Baseline = true)]
    public int DirectCall() => _callback();

    /// <summary>Tripswitch's facade: <c>Execute&lt;T&gt;(Func&lt;T&gt;)</c>.</summary>
    [Benchmark]
    [ComparedTo(nameof(Polly_Execute), AtLeast = 15)]
    public int Tripswitch_Execute() => _breaker.Execute(_callback);

    /// <summary>Tripswitch's two-step primitive, as the HTTP handler and chat middleware use it (information only).</summary>
    [Benchmark]
    [ComparedTo(nameof(Polly_Execute))]
    public int Tripswitch_Permit()
    {
        CircuitPermit permit = _breaker.AcquirePermit();
        int result = _callback();
        permit.RecordSuccess();
        return result;
    }

    /// <summary>Polly v8, default circuit breaker, <c>ResiliencePipeline.Execute&lt;T&gt;(Func&lt;T&gt;)</c>.</summary>
    [Benchmark]
    public int Polly_Execute() => _polly.Execute(_callback);

    /// <summary>Tripswitch with the time-window rule (Polly's rule and defaults: ratio 0.1 over 30 s, 100 calls minimum).</summary>
    [Benchmark]
    [ComparedTo(nameof(Polly_Execute), AtLeast = 8)]
    public int Tripswitch_Execute_TimeWindow() => _timeWindow.Execute(_callback);

    /// <summary>Tripswitch_Execute with a listener attached to every instrument of the "Tripswitch" meter.</summary>
    [Benchmark]
    [ComparedTo(nameof(Tripswitch_Execute), AtLeast = 0.5)] // listener cost <= 2x the cost with no listener
    public int Tripswitch_Execute_MeterListener() => _breaker.Execute(_callback);

    private CircuitBreaker _timeWindow = null!;
    private TripswitchMeterListener? _listener;

    [GlobalSetup(Target = nameof(Tripswitch_Execute_TimeWindow))]
    public void SetupTimeWindow()
    {
        Setup();
        _timeWindow = new CircuitBreaker(new CircuitBreakerOptions { Rule = FailureRule.TimeWindow });
        Callbacks.Require(_timeWindow.Execute(_callback) == Callbacks.Value && _timeWindow.State == CircuitState.Closed, "time-window breaker is closed and runs the callback");
    }

    // BenchmarkDotNet runs every row in its own process, so the listener never leaks into the other rows.
    [GlobalSetup(Target = nameof(Tripswitch_Execute_MeterListener))]
    public void SetupWithListener()
    {
        _listener = TripswitchMeterListener.Start();
        Setup();
        Callbacks.Require(_listener.EnabledInstruments > 0, "a listener is attached to the Tripswitch meter");
    }

    [GlobalCleanup(Target = nameof(Tripswitch_Execute_MeterListener))]
    public void CleanupListener() => _listener?.Dispose();
}
