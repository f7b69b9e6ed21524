using System.Diagnostics.Metrics;

namespace Tripswitch.Telemetry;

/// <summary>
/// The process-wide <see cref="System.Diagnostics.Metrics.Meter"/> named <see cref="MeterName"/> that circuits report
/// to (a circuit given a <see cref="CircuitBreakerOptions.MeterFactory"/> reports to that factory's meter of the same
/// name instead). Listen to it by name (<c>AddMeter(TripswitchMetrics.MeterName)</c>); integration packages and
/// extensions add their own instruments to it.
/// </summary>
public static class TripswitchMetrics
{
    /// <summary>The meter's name: <c>Tripswitch</c>.</summary>
    public const string MeterName = TripswitchTelemetry.MeterName;

    /// <summary>The meter. Create instruments on it with names starting <c>tripswitch.</c>; don't dispose it.</summary>
    public static Meter Meter => TripswitchTelemetry.Meter;
}
