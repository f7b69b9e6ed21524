using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using Tripswitch;
using Tripswitch.Hosting;
using Tripswitch.Hosting.Configuration;
using Tripswitch.Hosting.Telemetry;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers Tripswitch's <see cref="CircuitBreakerRegistry"/> in a service collection.</summary>
public static class TripswitchServiceCollectionExtensions
{
    /// <summary>
    /// Registers a <see cref="CircuitBreakerRegistry"/> singleton configured by <see cref="TripswitchOptions"/>, validated
    /// when the host starts, logging its circuits' transitions (category <c>Tripswitch</c>). Calling it again adds
    /// nothing; it replaces a registry registered before it (for example the default one that
    /// <c>AddCircuitBreakerHandler()</c> adds), and handlers added after it use it.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <returns>A builder to configure Tripswitch further.</returns>
    public static ITripswitchBuilder AddTripswitch(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (!services.Any(static d => d.ServiceType == typeof(TripswitchRegistryHost)))
        {
            services.AddOptionsWithValidateOnStart<TripswitchOptions>();
            services.AddSingleton<IValidateOptions<TripswitchOptions>, TripswitchOptionsValidator>();
            services.AddSingleton<IPostConfigureOptions<TripswitchOptions>, TimeProviderPostConfigure>();
            services.AddSingleton<IPostConfigureOptions<TripswitchOptions>, MeterFactoryPostConfigure>();
            services.AddSingleton<TripswitchOptionsChangeTokenSource>();
            services.AddSingleton<IOptionsChangeTokenSource<TripswitchOptions>>(static sp => sp.GetRequiredService<TripswitchOptionsChangeTokenSource>());
            services.AddSingleton<TripswitchRegistryHost>();
            services.AddHostedService<TripswitchHostedService>();

            // One registry per container, AddTripswitch's. It replaces the default registry a Tripswitch package added
            // for itself (AddCircuitBreakerHandler before AddTripswitch; TryAdd calls after it find this one). A registry
            // the application registered itself, before or after, stays: start-up then fails and says to remove it
            // (TripswitchHostedService), rather than leave some clients on a registry nothing configures, logs or checks.
            for (int i = services.Count - 1; i >= 0; i--)
            {
                if (IsPackageDefaultRegistry(services[i]))
                {
                    services.RemoveAt(i);
                }
            }

            services.AddSingleton(static sp => sp.GetRequiredService<TripswitchRegistryHost>().Registry);
        }

        return new TripswitchBuilder(services);
    }

    // The packages whose DI extensions add a default registry of their own when none is registered (with TryAdd, from a
    // factory declared in the package), so they work without AddTripswitch.
    private static readonly string[] PackagesWithADefaultRegistry = ["Tripswitch.Http"];

    private static bool IsPackageDefaultRegistry(ServiceDescriptor descriptor)
        => descriptor.ServiceType == typeof(CircuitBreakerRegistry)
            && !descriptor.IsKeyedService
            && descriptor.ImplementationFactory?.Method.DeclaringType?.Assembly.GetName().Name is { } assembly
            && PackagesWithADefaultRegistry.Contains(assembly, StringComparer.Ordinal);

    /// <summary>
    /// Registers Tripswitch (see <see cref="AddTripswitch(IServiceCollection)"/>) configured from a configuration section
    /// such as <c>builder.Configuration.GetSection("Tripswitch")</c>, with its keys <c>Capacity</c>, <c>Defaults</c>,
    /// <c>Circuits</c> (overrides by circuit name) and <c>Critical</c>. Unknown keys and values that don't convert fail
    /// start-up, naming the circuit and the option. When the configuration reloads, the circuits get the new options and
    /// keep their state and counts; an invalid reload is logged as an error and ignored.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">The Tripswitch section (not the configuration root).</param>
    /// <returns>A builder to configure Tripswitch further.</returns>
    public static ITripswitchBuilder AddTripswitch(this IServiceCollection services, IConfiguration configuration)
        => services.AddTripswitch().Bind(configuration);

    /// <summary>Registers Tripswitch (see <see cref="AddTripswitch(IServiceCollection)"/>) configured from code.</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Configures the options; runs each time options are built (at start-up and on each reload).</param>
    /// <returns>A builder to configure Tripswitch further.</returns>
    public static ITripswitchBuilder AddTripswitch(this IServiceCollection services, Action<TripswitchOptions> configure)
        => services.AddTripswitch().Configure(configure);
}
