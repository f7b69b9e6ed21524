using System.Diagnostics.CodeAnalysis;
using Tripswitch;
using Tripswitch.Polly;

namespace Polly;

/// <summary>
/// Adds a Tripswitch circuit to Polly v8 pipelines. Where it goes relative to a retry decides what a circuit counts:
/// added before the retry (outside it), one execution is one outcome however many attempts it took; added after the
/// retry (inside it), every attempt is an outcome, as Polly's own circuit breaker counts.
/// </summary>
public static class TripswitchResiliencePipelineBuilderExtensions
{
    private const string TrimJustification = "Tripswitch validates its options itself; they carry no data annotations for Polly's validator to find.";

    /// <summary>Adds a strategy that runs every execution through <paramref name="breaker"/>.</summary>
    /// <param name="builder">The pipeline builder.</param>
    /// <param name="breaker">The circuit.</param>
    /// <returns>The same builder.</returns>
    public static ResiliencePipelineBuilder AddTripswitch(this ResiliencePipelineBuilder builder, Tripswitch.CircuitBreaker breaker)
        => builder.AddTripswitch(new TripswitchStrategyOptions { Breaker = breaker ?? throw new ArgumentNullException(nameof(breaker)) });

    /// <summary>Adds a strategy that runs every execution through the circuit <paramref name="key"/> of <paramref name="registry"/>.</summary>
    /// <param name="builder">The pipeline builder.</param>
    /// <param name="registry">The registry.</param>
    /// <param name="key">The circuit's key, for example <c>openai/gpt-4.1</c>.</param>
    /// <returns>The same builder.</returns>
    public static ResiliencePipelineBuilder AddTripswitch(this ResiliencePipelineBuilder builder, CircuitBreakerRegistry registry, string key)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(key);
        return builder.AddTripswitch(new TripswitchStrategyOptions { Registry = registry, KeySelector = _ => key });
    }

    /// <summary>Adds a strategy that runs each execution through the circuit its options choose.</summary>
    /// <param name="builder">The pipeline builder.</param>
    /// <param name="options">The options; validated now.</param>
    /// <returns>The same builder.</returns>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = TrimJustification)]
    public static ResiliencePipelineBuilder AddTripswitch(this ResiliencePipelineBuilder builder, TripswitchStrategyOptions options)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        TripswitchStrategyOptions<object> snapshot = TripswitchResilienceStrategy<object>.Snapshot(options);
        StrategyCircuits? circuits = StrategyCircuits.For(snapshot); // shared by the pipelines built: one callback per transition
        return builder.AddStrategy(_ => new TripswitchResilienceStrategy<object>(snapshot, circuits), snapshot); // one per pipeline: disposed with it
    }

    /// <summary>Adds a strategy that runs every execution through <paramref name="breaker"/>; every result is a success.</summary>
    /// <typeparam name="TResult">The pipeline's result type.</typeparam>
    /// <param name="builder">The pipeline builder.</param>
    /// <param name="breaker">The circuit.</param>
    /// <returns>The same builder.</returns>
    public static ResiliencePipelineBuilder<TResult> AddTripswitch<TResult>(this ResiliencePipelineBuilder<TResult> builder, Tripswitch.CircuitBreaker breaker)
        => builder.AddTripswitch(new TripswitchStrategyOptions<TResult> { Breaker = breaker ?? throw new ArgumentNullException(nameof(breaker)) });

    /// <summary>Adds a strategy that runs each execution through the circuit its options choose, classifying results with them.</summary>
    /// <typeparam name="TResult">The pipeline's result type, for example <see cref="HttpResponseMessage"/>.</typeparam>
    /// <param name="builder">The pipeline builder.</param>
    /// <param name="options">The options; validated now.</param>
    /// <returns>The same builder.</returns>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = TrimJustification)]
    public static ResiliencePipelineBuilder<TResult> AddTripswitch<TResult>(this ResiliencePipelineBuilder<TResult> builder, TripswitchStrategyOptions<TResult> options)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        TripswitchStrategyOptions<TResult> snapshot = TripswitchResilienceStrategy<TResult>.Snapshot(options);
        StrategyCircuits? circuits = StrategyCircuits.For(snapshot); // shared by the pipelines built: one callback per transition
        return builder.AddStrategy(_ => new TripswitchResilienceStrategy<TResult>(snapshot, circuits), snapshot); // one per pipeline: disposed with it
    }
}
