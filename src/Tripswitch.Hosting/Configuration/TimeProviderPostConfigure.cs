using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Tripswitch.Hosting.Configuration;

/// <summary>
/// Gives the circuits the container's <see cref="TimeProvider"/> when one is registered, unless code already set one on
/// <see cref="TripswitchOptions.Defaults"/>; otherwise they keep <see cref="TimeProvider.System"/>.
/// </summary>
internal sealed class TimeProviderPostConfigure(IServiceProvider services) : IPostConfigureOptions<TripswitchOptions>
{
    /// <inheritdoc/>
    public void PostConfigure(string? name, TripswitchOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Defaults is { } defaults
            && ReferenceEquals(defaults.TimeProvider, TimeProvider.System)
            && services.GetService<TimeProvider>() is { } registered)
        {
            defaults.TimeProvider = registered;
        }
    }
}
