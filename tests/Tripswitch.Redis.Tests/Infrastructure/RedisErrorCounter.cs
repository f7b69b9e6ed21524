using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Tripswitch.Redis.Tests.Infrastructure;

/// <summary>Listens to the <c>tripswitch.redis.errors</c> counter (meter "Tripswitch") while it lives.</summary>
internal sealed class RedisErrorCounter : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<string, long> _byType = new(StringComparer.Ordinal);
    private long _total;

    public RedisErrorCounter()
    {
        _listener.InstrumentPublished = static (instrument, listener) =>
        {
            if (instrument.Meter.Name == "Tripswitch" && instrument.Name == "tripswitch.redis.errors")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            Interlocked.Add(ref _total, value);
            foreach (KeyValuePair<string, object?> tag in tags)
            {
                if (tag.Key == "error.type")
                {
                    _byType.AddOrUpdate(tag.Value?.ToString() ?? "?", value, (_, sum) => sum + value);
                }
            }
        });
        _listener.Start();
    }

    public long Total => Volatile.Read(ref _total);

    public IReadOnlyDictionary<string, long> ByType => _byType;

    public void Dispose() => _listener.Dispose();
}
