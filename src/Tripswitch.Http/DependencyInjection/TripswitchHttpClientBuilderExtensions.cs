using Microsoft.Extensions.DependencyInjection.Extensions;
using Tripswitch;
using Tripswitch.Http;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds Tripswitch circuit breakers to clients built by <see cref="IHttpClientBuilder"/>.</summary>
public static class TripswitchHttpClientBuilderExtensions
{
    /// <summary>
    /// Sends this client's requests through Tripswitch circuits (one per authority by default), taken from the
    /// <see cref="CircuitBreakerRegistry"/> in the container (<c>AddTripswitch(...)</c> configures it; a registry with
    /// default options is added when there is none).
    /// </summary>
    /// <param name="builder">The client builder.</param>
    /// <param name="configure">Configures the handler (key selector, failure rule, 503 instead of exceptions).</param>
    /// <returns>The builder, for chaining.</returns>
    public static IHttpClientBuilder AddCircuitBreakerHandler(this IHttpClientBuilder builder, Action<CircuitBreakerHandlerOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddSingleton(_ => new CircuitBreakerRegistry());
        var options = new CircuitBreakerHandlerOptions();
        configure?.Invoke(options);
        return builder.AddHttpMessageHandler(services => new CircuitBreakerHandler(services.GetRequiredService<CircuitBreakerRegistry>(), options));
    }
}
