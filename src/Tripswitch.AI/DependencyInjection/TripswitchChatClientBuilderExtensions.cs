using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Tripswitch;
using Tripswitch.AI;

namespace Microsoft.Extensions.AI;

/// <summary>Adds Tripswitch circuit breakers to chat client pipelines.</summary>
public static class TripswitchChatClientBuilderExtensions
{
    /// <summary>
    /// Adds a <see cref="CircuitBreakerChatClient"/> to the pipeline: one circuit per model, from <paramref name="registry"/>
    /// or, when <see langword="null"/>, from the <see cref="CircuitBreakerRegistry"/> registered in the services the
    /// pipeline is built with (Tripswitch.Hosting's <c>services.AddTripswitch(...)</c>).
    /// </summary>
    /// <remarks>
    /// A chat client builder cannot register anything, so without a registry this overload fails when the pipeline is
    /// first built. To fail at start-up instead, use named options: <c>services.AddCircuitBreakerChatClientOptions(name)</c>
    /// with <c>UseCircuitBreaker(name)</c>.
    /// </remarks>
    /// <param name="builder">The chat client builder.</param>
    /// <param name="registry">The registry; <see langword="null"/> to resolve it from the pipeline's services.</param>
    /// <param name="configure">Configures the middleware (key selector, fallback client, time-to-first-token threshold).</param>
    /// <returns>The builder, for chaining.</returns>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range; the message names it and the valid range.</exception>
    public static ChatClientBuilder UseCircuitBreaker(this ChatClientBuilder builder, CircuitBreakerRegistry? registry = null, Action<CircuitBreakerChatClientOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = new CircuitBreakerChatClientOptions();
        configure?.Invoke(options);
        options.Validate(); // now, not when the pipeline is first built (with DI, on the first request that needs it)
        return builder.Use((inner, services) => new CircuitBreakerChatClient(inner, registry ?? RegistryFrom(services), options));
    }

    /// <summary>
    /// Adds a <see cref="CircuitBreakerChatClient"/> whose options are the named options <paramref name="optionsName"/>,
    /// registered with <c>services.AddCircuitBreakerChatClientOptions(optionsName, ...)</c> (from configuration, code, or
    /// both) and validated when the host starts. They are read when the pipeline is built.
    /// </summary>
    /// <param name="builder">The chat client builder.</param>
    /// <param name="optionsName">The name of the options, for example <c>"openai"</c>.</param>
    /// <returns>The builder, for chaining.</returns>
    /// <remarks>
    /// The circuits come from the <see cref="CircuitBreakerRegistry"/> registered in the pipeline's services
    /// (Tripswitch.Hosting's <c>services.AddTripswitch(...)</c>); without one the host fails to start, since the options
    /// are validated then.
    /// </remarks>
    public static ChatClientBuilder UseCircuitBreaker(this ChatClientBuilder builder, string optionsName)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(optionsName);
        return builder.Use((inner, services) =>
        {
            // Unregistered names would silently be the defaults (IOptionsMonitor makes any name): refused instead.
            if (!services.GetServices<ChatClientOptionsName>().Any(n => n.Name == optionsName))
            {
                throw new InvalidOperationException($"UseCircuitBreaker(\"{optionsName}\") reads the named options \"{optionsName}\", which aren't registered: add services.AddCircuitBreakerChatClientOptions(\"{optionsName}\", ...).");
            }

            CircuitBreakerChatClientOptions options = services.GetRequiredService<IOptionsMonitor<CircuitBreakerChatClientOptions>>().Get(optionsName);
            return new CircuitBreakerChatClient(inner, RegistryFrom(services), options);
        });
    }

    private static CircuitBreakerRegistry RegistryFrom(IServiceProvider services)
        => services.GetService<CircuitBreakerRegistry>()
            ?? throw new InvalidOperationException(ChatClientRegistryValidator.MissingRegistry);
}
