using System.Text;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Tripswitch.Hosting.HealthChecks;

/// <summary>
/// Reports the circuits of the registry: <see cref="HealthStatus.Healthy"/> while every circuit is closed,
/// <see cref="HealthStatus.Degraded"/> while any is open, half-open or isolated, and the registration's failure status
/// (<see cref="HealthStatus.Unhealthy"/> by default) while a critical circuit (<see cref="TripswitchOptions.Critical"/>)
/// is open or isolated. The description and the data name the circuits that are not closed, with their states.
/// </summary>
internal sealed class TripswitchHealthCheck(TripswitchRegistryHost host) : IHealthCheck
{
    /// <summary>The data key that lists the critical circuits that are open or isolated.</summary>
    internal const string CriticalDataKey = "critical";

    /// <inheritdoc/>
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        ISet<string> critical = host.Current.Critical;
        var notClosed = new SortedDictionary<string, CircuitState>(StringComparer.Ordinal);
        var criticalDown = new List<string>();
        IReadOnlyDictionary<string, CircuitState> status = host.Registry.Status(); // also moves due open circuits to half-open
        foreach ((string circuit, CircuitState state) in status)
        {
            if (state == CircuitState.Closed)
            {
                continue;
            }

            notClosed[circuit] = state;
            if (state is CircuitState.Open or CircuitState.Isolated && critical.Contains(circuit))
            {
                criticalDown.Add(circuit);
            }
        }

        if (notClosed.Count == 0)
        {
            return Task.FromResult(HealthCheckResult.Healthy($"All {status.Count} circuit(s) are closed."));
        }

        criticalDown.Sort(StringComparer.Ordinal);
        var data = new Dictionary<string, object>(StringComparer.Ordinal);
        foreach ((string circuit, CircuitState state) in notClosed)
        {
            data[circuit] = state.ToString();
        }

        var description = new StringBuilder();
        if (criticalDown.Count > 0)
        {
            data[CriticalDataKey] = criticalDown.ToArray();
            description.Append("Critical circuit(s) down: ").AppendJoin(", ", criticalDown).Append(". ");
        }

        description.Append(notClosed.Count).Append(" of ").Append(status.Count).Append(" circuit(s) not closed: ")
            .AppendJoin(", ", notClosed.Select(static p => $"{p.Key} ({p.Value})")).Append('.');

        HealthStatus result = criticalDown.Count > 0 ? context.Registration.FailureStatus : HealthStatus.Degraded;
        return Task.FromResult(new HealthCheckResult(result, description.ToString(), exception: null, data));
    }
}
