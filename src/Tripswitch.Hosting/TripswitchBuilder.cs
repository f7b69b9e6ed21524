using Microsoft.Extensions.DependencyInjection;

namespace Tripswitch.Hosting;

/// <summary>The <see cref="ITripswitchBuilder"/> AddTripswitch returns.</summary>
internal sealed class TripswitchBuilder(IServiceCollection services) : ITripswitchBuilder
{
    /// <inheritdoc/>
    public IServiceCollection Services { get; } = services;
}
