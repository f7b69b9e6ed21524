namespace Tripswitch;

/// <summary>
/// Implemented by a failure (usually an exception) that knows when the dependency will accept calls again, such as a
/// 429 response's <c>Retry-After</c>. An open period is never shorter than the hint (up to
/// <see cref="CircuitBreakerOptions.MaxRecoveryTimeout"/>).
/// </summary>
public interface IRetryAfterHint
{
    /// <summary>How long the dependency asked callers to wait, or <see langword="null"/> when it did not say.</summary>
    TimeSpan? RetryAfter { get; }
}
