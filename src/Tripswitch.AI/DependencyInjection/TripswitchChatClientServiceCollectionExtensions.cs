using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Tripswitch.AI;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers named options of the Tripswitch chat client middleware, validated when the host starts.</summary>
/// <remarks>
/// A pipeline uses them with <c>.UseCircuitBreaker("name")</c>. They are read when the pipeline is built and bound
/// once: a configuration reload doesn't change them (the circuits' own options, from <c>AddTripswitch</c>, do reload).
/// </remarks>
public static class TripswitchChatClientServiceCollectionExtensions
{
    /// <summary>
    /// Binds the chat client middleware's options <paramref name="name"/> from <paramref name="section"/>
    /// (<c>FallbackModelId</c>, <c>TimeToFirstTokenThreshold</c>); an unknown key (a typo), a value that doesn't parse or one
    /// out of range fails start-up with a message naming the options and the key and, for a typo, the closest option. Set what only code can (the fallback client, a key selector) on the returned builder.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="name">The options' name, as passed to <c>UseCircuitBreaker(name)</c>.</param>
    /// <param name="section">The section, for example <c>configuration.GetSection("Tripswitch:Chat:openai")</c>.</param>
    /// <returns>The options builder, for <c>.Configure(...)</c> from code.</returns>
    public static OptionsBuilder<CircuitBreakerChatClientOptions> AddCircuitBreakerChatClientOptions(this IServiceCollection services, string name, IConfigurationSection section)
    {
        ArgumentNullException.ThrowIfNull(section);
        // Bound once, without a change token: these options don't reload (see the class remarks).
        return services.AddCircuitBreakerChatClientOptions(name)
            .Configure(o => ChatClientOptionsSection.Apply(section, o));
    }

    /// <summary>
    /// Registers the chat client middleware's options <paramref name="name"/>, validated when the host starts; start-up
    /// also fails when the container has no <see cref="Tripswitch.CircuitBreakerRegistry"/> (add Tripswitch.Hosting's
    /// <c>services.AddTripswitch(...)</c>), which <c>UseCircuitBreaker(name)</c> takes its circuits from.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="name">The options' name, as passed to <c>UseCircuitBreaker(name)</c>.</param>
    /// <returns>The options builder, for <c>.Configure(...)</c>.</returns>
    public static OptionsBuilder<CircuitBreakerChatClientOptions> AddCircuitBreakerChatClientOptions(this IServiceCollection services, string name)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(name);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<CircuitBreakerChatClientOptions>, CircuitBreakerChatClientOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<CircuitBreakerChatClientOptions>, ChatClientRegistryValidator>());
        services.AddSingleton(new ChatClientOptionsName(name));
        return services.AddOptions<CircuitBreakerChatClientOptions>(name).ValidateOnStart();
    }
}
