using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Tripswitch.Hosting.Telemetry;

/// <summary>
/// Gives the container's circuits the container's <see cref="IMeterFactory"/> (registered by <c>AddMetrics()</c>, which
/// every .NET host calls), so their <c>Tripswitch</c> meter is created by it, is disposed with the container, and is
/// separate from other containers' (tests running hosts side by side see only their own measurements). Code that
/// already set <see cref="CircuitBreakerOptions.MeterFactory"/> on <see cref="TripswitchOptions.Defaults"/> keeps its own.
/// </summary>
internal sealed class MeterFactoryPostConfigure(IServiceProvider services) : IPostConfigureOptions<TripswitchOptions>
{
    /// <inheritdoc/>
    public void PostConfigure(string? name, TripswitchOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Defaults is { MeterFactory: null } defaults && services.GetService<IMeterFactory>() is { } factory)
        {
            defaults.MeterFactory = factory;
        }
    }
}
