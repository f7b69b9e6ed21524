using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using Tripswitch;
using Tripswitch.Hosting;
using Tripswitch.Hosting.Configuration;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Configures Tripswitch through the builder <c>AddTripswitch()</c> returns. Sources apply in the order they are added.</summary>
public static class TripswitchBuilderExtensions
{
    /// <summary>Configures <see cref="TripswitchOptions"/> from code.</summary>
    /// <param name="builder">The Tripswitch builder.</param>
    /// <param name="configure">Configures the options; runs each time options are built (at start-up and on each reload).</param>
    /// <returns>The builder, for chaining.</returns>
    public static ITripswitchBuilder Configure(this ITripswitchBuilder builder, Action<TripswitchOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.Configure(configure);
        return builder;
    }

    /// <summary>
    /// Configures <see cref="TripswitchOptions"/> from a configuration section (see
    /// <see cref="TripswitchServiceCollectionExtensions.AddTripswitch(IServiceCollection, IConfiguration)"/>), and applies
    /// its reloads to the registry.
    /// </summary>
    /// <param name="builder">The Tripswitch builder.</param>
    /// <param name="configuration">The Tripswitch section (not the configuration root).</param>
    /// <returns>The builder, for chaining.</returns>
    public static ITripswitchBuilder Bind(this ITripswitchBuilder builder, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configuration);
        var source = new TripswitchConfigurationSource(configuration);
        builder.Services.AddSingleton<IConfigureOptions<TripswitchOptions>>(source);
        builder.Services.AddSingleton(source);
        return builder;
    }

    /// <summary>Overrides the options of one circuit from code (see <see cref="TripswitchOptions.Configure(string, Action{CircuitBreakerOptions})"/>).</summary>
    /// <param name="builder">The Tripswitch builder.</param>
    /// <param name="circuit">The circuit's key, for example <c>openai/gpt-4.1</c> (case-sensitive).</param>
    /// <param name="configure">Changes that circuit's options, on top of the defaults.</param>
    /// <returns>The builder, for chaining.</returns>
    public static ITripswitchBuilder ConfigureCircuit(this ITripswitchBuilder builder, string circuit, Action<CircuitBreakerOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(circuit);
        ArgumentNullException.ThrowIfNull(configure);
        return builder.Configure(options => options.Configure(circuit, configure));
    }
}
