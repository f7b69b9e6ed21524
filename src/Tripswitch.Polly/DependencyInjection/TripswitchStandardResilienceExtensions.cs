using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;
using Tripswitch;
using Tripswitch.Polly;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>The standard HTTP resilience handler of Microsoft.Extensions.Http.Resilience, with a Tripswitch circuit in place of Polly's circuit breaker.</summary>
public static class TripswitchStandardResilienceExtensions
{
    /// <summary>
    /// Adds the standard resilience handler's pipeline, with <see cref="HttpStandardResilienceOptions"/> and its
    /// strategies in the same order (rate limiter, total timeout, retry, circuit breaker, attempt timeout), except that
    /// the circuit breaker is a Tripswitch circuit: <see cref="HttpTripswitchStrategyOptions"/> over the container's
    /// <see cref="CircuitBreakerRegistry"/> (one circuit per authority, named as Tripswitch.Http names it, configured by
    /// <c>Tripswitch:Circuits:&lt;name&gt;</c>).
    /// </summary>
    /// <remarks>
    /// The returned builder takes the standard handler's <c>Configure(section)</c> / <c>Configure(options =&gt; ...)</c>
    /// and the options reload as the standard handler's do; their <see cref="HttpStandardResilienceOptions.CircuitBreaker"/>
    /// is not used (the circuits' options come from the registry, e.g. <c>AddTripswitch</c>). The circuit sits inside the
    /// retry, so it counts every attempt (a timed-out attempt too) and a rejection, a <see cref="CircuitOpenException"/>,
    /// is not retried. A registry with default options is added when the container has none, as
    /// <c>AddCircuitBreakerHandler</c> does. Don't add the standard handler or <c>AddCircuitBreakerHandler</c> to the same
    /// client as well: that would make two circuit breakers.
    /// </remarks>
    /// <param name="builder">The client builder.</param>
    /// <param name="configure">Changes the Tripswitch strategy's presets (key selector, failure rule, callbacks); <see langword="null"/> keeps them.</param>
    /// <returns>The standard pipeline's builder, for <c>Configure(...)</c> and <c>SelectPipelineByAuthority()</c>.</returns>
    public static IHttpStandardResiliencePipelineBuilder AddStandardResilienceHandlerWithTripswitch(this IHttpClientBuilder builder, Action<HttpTripswitchStrategyOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddSingleton(_ => new CircuitBreakerRegistry());
        string? optionsName = null;
        IHttpResiliencePipelineBuilder pipeline = builder.AddResilienceHandler("standard-tripswitch", (pipelineBuilder, context) =>
        {
            context.EnableReloads<HttpStandardResilienceOptions>(optionsName!);
            HttpStandardResilienceOptions standard = context.ServiceProvider.GetRequiredService<IOptionsMonitor<HttpStandardResilienceOptions>>().Get(optionsName);
            var tripswitch = new HttpTripswitchStrategyOptions(context.ServiceProvider.GetService<TimeProvider>() ?? TimeProvider.System)
            {
                Registry = context.ServiceProvider.GetRequiredService<CircuitBreakerRegistry>(),
            };
            configure?.Invoke(tripswitch);
            pipelineBuilder
                .AddRateLimiter(standard.RateLimiter)
                .AddTimeout(standard.TotalRequestTimeout)
                .AddRetry(standard.Retry)
                .AddTripswitch(tripswitch)
                .AddTimeout(standard.AttemptTimeout);
        });
        optionsName = pipeline.PipelineName; // the standard handler names its options after its pipeline too
        builder.Services.AddOptions<HttpStandardResilienceOptions>(optionsName);
        return new StandardPipelineBuilder(optionsName, builder.Services);
    }

    private sealed record StandardPipelineBuilder(string PipelineName, IServiceCollection Services) : IHttpStandardResiliencePipelineBuilder;
}
