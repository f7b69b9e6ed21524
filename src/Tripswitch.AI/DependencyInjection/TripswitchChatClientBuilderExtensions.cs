using Tripswitch;
using Tripswitch.AI;

namespace Microsoft.Extensions.AI;

/// <summary>Adds Tripswitch circuit breakers to a <see cref="ChatClientBuilder"/> pipeline.</summary>
public static class TripswitchChatClientBuilderExtensions
{
    /// <summary>
    /// Sends requests through a circuit per model, taken from <paramref name="registry"/> or, when it is
    /// <see langword="null"/>, from the <see cref="CircuitBreakerRegistry"/> in the builder's services (<c>AddTripswitch(...)</c>).
    /// </summary>
    /// <param name="builder">The chat client builder.</param>
    /// <param name="registry">The registry; <see langword="null"/> to resolve it from the services.</param>
    /// <param name="configure">Configures the middleware (key selector, fallback client, time-to-first-token threshold).</param>
    /// <returns>The builder, for chaining.</returns>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range (thrown by this call).</exception>
    /// <exception cref="InvalidOperationException">No registry was given and none is registered (thrown when the pipeline is built).</exception>
    public static ChatClientBuilder UseCircuitBreaker(this ChatClientBuilder builder, CircuitBreakerRegistry? registry = null, Action<CircuitBreakerChatClientOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = new CircuitBreakerChatClientOptions();
        configure?.Invoke(options);
        options.Validate(); // now, not when the pipeline is first built (with DI, on the first request that needs it)
        return builder.Use((inner, services) =>
        {
            CircuitBreakerRegistry resolved = registry
                ?? services.GetService(typeof(CircuitBreakerRegistry)) as CircuitBreakerRegistry
                ?? throw new InvalidOperationException("UseCircuitBreaker needs a CircuitBreakerRegistry: pass one, or register one (services.AddTripswitch(...)).");
            return new CircuitBreakerChatClient(inner, resolved, options);
        });
    }
}
