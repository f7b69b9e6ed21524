using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Tripswitch;
using Tripswitch.Http;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds Tripswitch circuit breakers to clients built by <see cref="IHttpClientBuilder"/>.</summary>
/// <remarks>
/// The handler's options are named options of <see cref="CircuitBreakerHandlerOptions"/>, named after the client
/// (<see cref="IHttpClientBuilder.Name"/>): set them from code, from a configuration section, or both (delegates, which
/// only code can set, with <c>services.Configure&lt;CircuitBreakerHandlerOptions&gt;(clientName, ...)</c>). They are
/// validated when the host starts, and followed like the circuits' own options: when a configuration section they were
/// read from reloads (or <see cref="IOptionsMonitor{TOptions}"/> reports a change otherwise), the client's handlers use
/// the new options from their next request, without a restart. A reload with an invalid value is refused (the monitor
/// throws) and the handlers keep the last valid options.
/// </remarks>
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
        OptionsBuilder<CircuitBreakerHandlerOptions> options = AddHandler(builder);
        if (configure is not null)
        {
            options.Configure(configure);
        }

        return builder;
    }

    /// <summary>
    /// Sends this client's requests through Tripswitch circuits, with the handler's options bound from
    /// <paramref name="section"/> (<c>Timeout</c>, <c>ReturnServiceUnavailableWhenOpen</c>). An unknown key (a typo), a
    /// value that doesn't parse or one out of range fails start-up with a message naming the client, the key and, for a
    /// typo, the closest option ("Did you mean 'Timeout'?"). When the section reloads, the handler uses the new values
    /// from its next request.
    /// </summary>
    /// <param name="builder">The client builder.</param>
    /// <param name="section">The handler's section, for example <c>configuration.GetSection("Http:openai")</c>.</param>
    /// <returns>The builder, for chaining.</returns>
    public static IHttpClientBuilder AddCircuitBreakerHandler(this IHttpClientBuilder builder, IConfigurationSection section)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(section);
        // Read afresh whenever the options are built; the section's reload token rebuilds them, and the handler follows.
        AddHandler(builder)
            .Configure(o => HandlerOptionsSection.Apply(section, o));
        builder.Services.AddSingleton<IOptionsChangeTokenSource<CircuitBreakerHandlerOptions>>(new SectionChangeTokenSource(builder.Name, section));
        return builder;
    }

    private static OptionsBuilder<CircuitBreakerHandlerOptions> AddHandler(IHttpClientBuilder builder)
    {
        builder.Services.TryAddSingleton(_ => new CircuitBreakerRegistry());
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<CircuitBreakerHandlerOptions>, CircuitBreakerHandlerOptionsValidator>());
        string name = builder.Name;
        builder.AddHttpMessageHandler(services => new CircuitBreakerHandler(
            services.GetRequiredService<CircuitBreakerRegistry>(),
            services.GetRequiredService<IOptionsMonitor<CircuitBreakerHandlerOptions>>(),
            name));
        return builder.Services.AddOptions<CircuitBreakerHandlerOptions>(name).ValidateOnStart();
    }
}
