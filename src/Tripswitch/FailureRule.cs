namespace Tripswitch;

/// <summary>Which rule decides when a closed circuit opens.</summary>
public enum FailureRule
{
    /// <summary>
    /// <see cref="CircuitBreakerOptions.FailureThreshold"/> handled failures in a row (the classic circuit-breaker rule). The default.
    /// </summary>
    ConsecutiveFailures = 0,

    /// <summary>
    /// The failure ratio over the last <see cref="CircuitBreakerOptions.WindowSize"/> calls reaches
    /// <see cref="CircuitBreakerOptions.FailureRatio"/>, once at least <see cref="CircuitBreakerOptions.MinimumThroughput"/>
    /// calls are in the window (Resilience4j's count-based window).
    /// </summary>
    CountWindow = 1,

    /// <summary>
    /// The failure ratio over the last <see cref="CircuitBreakerOptions.SamplingDuration"/> reaches
    /// <see cref="CircuitBreakerOptions.FailureRatio"/>, once at least <see cref="CircuitBreakerOptions.MinimumThroughput"/>
    /// calls are in the window (Polly v8's rule, with its option names).
    /// </summary>
    TimeWindow = 2,
}
