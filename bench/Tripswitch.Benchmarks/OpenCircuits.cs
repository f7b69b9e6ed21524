using Polly;
using Polly.CircuitBreaker;
using PollyCircuitState = Polly.CircuitBreaker.CircuitState;

namespace Tripswitch.Benchmarks;

/// <summary>
/// Breakers and pipelines that reject every call, built the way users get there: tripped by real failures (open), or
/// forced open by an operator (isolated). Each factory checks the state it promises, so a rejection row can never
/// silently measure the closed path.
/// </summary>
internal static class OpenCircuits
{
    /// <summary>Long enough that the circuit cannot half-open during any benchmark run.</summary>
    public static readonly TimeSpan LongOpenPeriod = TimeSpan.FromHours(1);

    /// <summary>Polly's callback for the non-throwing rejection path: returns an outcome instead of throwing.</summary>
    public static readonly Func<ResilienceContext, Func<int>, ValueTask<Outcome<int>>> PollyOutcomeCallback
        = static (_, callback) => new ValueTask<Outcome<int>>(Outcome.FromResult(callback()));

    /// <summary>A Tripswitch breaker opened by <c>FailureThreshold</c> consecutive failures.</summary>
    public static CircuitBreaker TripswitchOpen()
    {
        var breaker = new CircuitBreaker(new CircuitBreakerOptions { RecoveryTimeout = LongOpenPeriod });
        for (int i = 0; i < 1_000 && breaker.State == CircuitState.Closed; i++)
        {
            breaker.AcquirePermit().RecordFailure();
        }

        Callbacks.Require(breaker.State == CircuitState.Open, "Tripswitch breaker is open");
        Callbacks.Require(!breaker.TryAcquirePermit(out _, out TimeSpan retryAfter) && retryAfter > TimeSpan.Zero, "open Tripswitch breaker rejects with a retry-after");
        return breaker;
    }

    /// <summary>A Tripswitch breaker isolated by an operator.</summary>
    public static CircuitBreaker TripswitchIsolated()
    {
        var breaker = new CircuitBreaker();
        breaker.Isolate();
        Callbacks.Require(breaker.State == CircuitState.Isolated, "Tripswitch breaker is isolated");
        Callbacks.Require(!breaker.TryAcquirePermit(out _, out _), "isolated Tripswitch breaker rejects");
        return breaker;
    }

    /// <summary>A Polly pipeline (default options but a long break) opened by failures: 100 (its default minimum throughput) failed calls.</summary>
    public static ResiliencePipeline<int> PollyOpen()
    {
        var state = new CircuitBreakerStateProvider();
        ResiliencePipeline<int> pipeline = new ResiliencePipelineBuilder<int>()
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions<int> { BreakDuration = LongOpenPeriod, StateProvider = state })
            .Build();

        var failure = new InvalidOperationException("simulated failure");
        for (int i = 0; i < 1_000 && state.CircuitState == PollyCircuitState.Closed; i++)
        {
            ResilienceContext context = ResilienceContextPool.Shared.Get(CancellationToken.None);
            _ = pipeline.ExecuteOutcomeAsync(static (_, ex) => Outcome.FromExceptionAsValueTask<int>(ex), context, failure)
                .AsTask().GetAwaiter().GetResult();
            ResilienceContextPool.Shared.Return(context);
        }

        Callbacks.Require(state.CircuitState == PollyCircuitState.Open, "Polly pipeline is open");
        Callbacks.Require(Probe(pipeline) is BrokenCircuitException and not IsolatedCircuitException, "open Polly pipeline rejects with BrokenCircuitException");
        return pipeline;
    }

    /// <summary>A Polly pipeline with default options isolated through <see cref="CircuitBreakerManualControl"/>.</summary>
    public static ResiliencePipeline<int> PollyIsolated()
    {
        var control = new CircuitBreakerManualControl();
        var state = new CircuitBreakerStateProvider();
        ResiliencePipeline<int> pipeline = new ResiliencePipelineBuilder<int>()
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions<int> { ManualControl = control, StateProvider = state })
            .Build();
        control.IsolateAsync().GetAwaiter().GetResult();

        Callbacks.Require(state.CircuitState == PollyCircuitState.Isolated, "Polly pipeline is isolated");
        Callbacks.Require(Probe(pipeline) is IsolatedCircuitException, "isolated Polly pipeline rejects with IsolatedCircuitException");
        return pipeline;
    }

    private static Exception? Probe(ResiliencePipeline<int> pipeline)
    {
        ResilienceContext context = ResilienceContextPool.Shared.Get(CancellationToken.None);
        Outcome<int> outcome = pipeline.ExecuteOutcomeAsync(PollyOutcomeCallback, context, Callbacks.Sync).AsTask().GetAwaiter().GetResult();
        ResilienceContextPool.Shared.Return(context);
        return outcome.Exception;
    }
}
