using Microsoft.Extensions.Diagnostics.HealthChecks;
using Tripswitch.Hosting;
using Tripswitch.Hosting.HealthChecks;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds the Tripswitch health check to <see cref="IHealthChecksBuilder"/>.</summary>
public static class TripswitchHealthChecksBuilderExtensions
{
    /// <summary>The health check's default name.</summary>
    public const string DefaultName = "tripswitch";

    /// <summary>
    /// Adds a health check over the circuits of Tripswitch's registry (registering Tripswitch when it isn't yet):
    /// <c>Healthy</c> while every circuit is closed, <c>Degraded</c> while any is open, half-open or isolated, and
    /// <paramref name="failureStatus"/> while a circuit listed in <see cref="TripswitchOptions.Critical"/> is open or
    /// isolated. The description and the data name the circuits that are not closed and their states (the data
    /// key <c>critical</c> lists the critical ones that are down).
    /// </summary>
    /// <param name="builder">The health checks builder.</param>
    /// <param name="name">The check's name.</param>
    /// <param name="failureStatus">What a critical circuit that is down reports; <see langword="null"/> for <see cref="HealthStatus.Unhealthy"/>.</param>
    /// <param name="tags">Tags to filter checks by (for example "ready").</param>
    /// <returns>The builder, for chaining.</returns>
    public static IHealthChecksBuilder AddTripswitch(
        this IHealthChecksBuilder builder,
        string name = DefaultName,
        HealthStatus? failureStatus = null,
        IEnumerable<string>? tags = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        builder.Services.AddTripswitch();
        return builder.Add(new HealthCheckRegistration(
            name,
            static services => new TripswitchHealthCheck(services.GetRequiredService<TripswitchRegistryHost>()),
            failureStatus,
            tags));
    }
}
