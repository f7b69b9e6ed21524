using System.Diagnostics.Metrics;

namespace Tripswitch.Telemetry;

/// <summary>
/// The one <see cref="System.Diagnostics.Metrics.Meter"/> every Tripswitch circuit reports to, named
/// <see cref="MeterName"/>. Listen to it by name (<c>AddMeter(TripswitchMetrics.MeterName)</c>); integration packages
/// and extensions add their own instruments to it, so one meter carries all of Tripswitch.
/// </summary>
public static class TripswitchMetrics
{
    /// <summary>The meter's name: <c>Tripswitch</c>.</summary>
    public const string MeterName = TripswitchTelemetry.MeterName;

    /// <summary>The meter. Create instruments on it with names starting <c>tripswitch.</c>; don't dispose it.</summary>
    public static Meter Meter => TripswitchTelemetry.Meter;
}
