using Microsoft.Extensions.Hosting;

namespace Tripswitch.Hosting;

/// <summary>
/// Builds the registry when the host starts (right after the options were validated), so transitions are logged and
/// configuration reloads are applied from the start, not only from the registry's first use.
/// </summary>
internal sealed class TripswitchHostedService(TripswitchRegistryHost host) : IHostedService
{
    /// <inheritdoc/>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        _ = host.Registry;
        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
