using System.Diagnostics.Metrics;

namespace Tripswitch.Benchmarks;

/// <summary>
/// A <see cref="MeterListener"/> subscribed to every instrument of the meter named <see cref="MeterName"/>, doing the
/// least a real exporter does per measurement (add it to a running total). Used by the telemetry row once the library
/// publishes that meter (see PLACEHOLDER(telemetry) in <see cref="ClosedSyncBenchmarks"/>).
/// </summary>
internal sealed class TripswitchMeterListener : IDisposable
{
    /// <summary>The name the library's meter will have.</summary>
    public const string MeterName = "Tripswitch";

    private readonly MeterListener _listener = new();
    private long _measurements;
    private double _total;
    private int _enabled;

    private TripswitchMeterListener()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == MeterName)
            {
                listener.EnableMeasurementEvents(instrument);
                Interlocked.Increment(ref _enabled);
            }
        };
        _listener.SetMeasurementEventCallback<long>((_, value, _, _) => Record(value));
        _listener.SetMeasurementEventCallback<int>((_, value, _, _) => Record(value));
        _listener.SetMeasurementEventCallback<double>((_, value, _, _) => Record(value));
        _listener.Start();
    }

    /// <summary>How many of the meter's instruments the listener has enabled.</summary>
    public int EnabledInstruments => Volatile.Read(ref _enabled);

    /// <summary>How many measurements arrived.</summary>
    public long Measurements => Interlocked.Read(ref _measurements);

    /// <summary>Starts listening.</summary>
    /// <returns>The listener; dispose it to stop.</returns>
    public static TripswitchMeterListener Start() => new();

    /// <inheritdoc/>
    public void Dispose() => _listener.Dispose();

    private void Record(double value)
    {
        Interlocked.Increment(ref _measurements);
        _total += value; // racy on purpose: a stand-in for an exporter's aggregation, not a count anyone reads
    }

    /// <summary>Keeps the total observable so the aggregation is not optimised away.</summary>
    public override string ToString() => $"{Measurements} measurements, total {_total}";
}
