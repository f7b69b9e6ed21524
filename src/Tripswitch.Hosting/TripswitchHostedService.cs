using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Tripswitch.Hosting;

/// <summary>
/// Builds the registry when the host starts (right after the options were validated), so transitions are logged and
/// configuration reloads are applied from the start, not only from the registry's first use; and refuses to start
/// when the container holds a second <see cref="CircuitBreakerRegistry"/> besides AddTripswitch's.
/// </summary>
internal sealed class TripswitchHostedService(TripswitchRegistryHost host, IServiceProvider services) : IHostedService
{
    /// <inheritdoc/>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        CircuitBreakerRegistry registry = host.Registry;
        EnsureOneRegistry(registry, services.GetServices<CircuitBreakerRegistry>().ToList());
        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// One registry per container: a second one (<c>services.AddSingleton(new CircuitBreakerRegistry())</c> before or
    /// after AddTripswitch) would leave some handlers, chat clients or the dashboard on a registry that ignores the
    /// configuration, isn't logged and isn't health-checked — silently. Start-up fails instead.
    /// </summary>
    internal static void EnsureOneRegistry(CircuitBreakerRegistry tripswitchRegistry, IReadOnlyList<CircuitBreakerRegistry> registered)
    {
        if (registered.All(r => ReferenceEquals(r, tripswitchRegistry)))
        {
            return;
        }

        throw new InvalidOperationException(
            $"There are {registered.Count} CircuitBreakerRegistry registrations in the services: AddTripswitch's and another one " +
            "(services.AddSingleton(new CircuitBreakerRegistry()) or a factory, before or after AddTripswitch). AddTripswitch registers " +
            "the container's one registry, configured from its options and configuration, logged and health-checked, and every " +
            "handler, chat client and dashboard resolves it: remove the other registration, and configure circuits through " +
            "AddTripswitch(...) or .ConfigureCircuit(name, ...).");
    }
}
