using System.Text.Json;
using StackExchange.Redis;

namespace Tripswitch.Redis.Tests.Infrastructure;

/// <summary>What a circuit's fleet-wide window holds in Redis (the hash's field <c>w</c>), read by the tests.</summary>
internal static class FleetWindowReader
{
    /// <summary>The calls, failures and slow calls summed over every stored bucket (zeros when there is no window).</summary>
    public static Task<(double Calls, double Failures, double Slow)> Window(this Fleet fleet, string circuit)
        => Read(fleet.Admin, fleet.HashKey(circuit));

    /// <inheritdoc cref="Window(Fleet, string)"/>
    public static async Task<(double Calls, double Failures, double Slow)> Read(IDatabase db, string hashKey)
    {
        RedisValue raw = await db.HashGetAsync(hashKey, "w");
        if (raw.IsNull)
        {
            return default;
        }

        try
        {
            using JsonDocument window = JsonDocument.Parse((string)raw!);
            JsonElement buckets = window.RootElement.GetProperty("b");
            if (buckets.ValueKind != JsonValueKind.Array)
            {
                return default; // an empty Lua table encodes as {}
            }

            double calls = 0, failures = 0, slow = 0;
            foreach (JsonElement bucket in buckets.EnumerateArray())
            {
                calls += bucket[1].GetDouble();
                failures += bucket[2].GetDouble();
                slow += bucket[3].GetDouble();
            }

            return (calls, failures, slow);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or KeyNotFoundException or FormatException)
        {
            return (double.NaN, double.NaN, double.NaN); // not a window the scripts wrote (a test planted garbage)
        }
    }

    /// <summary>Waits until the fleet's window holds <paramref name="calls"/> calls (every instance's report arrived).</summary>
    public static Task Holds(this Fleet fleet, string circuit, double calls)
        => Eventually.True(async () => (await fleet.Window(circuit)).Calls == calls, $"the fleet's window of '{circuit}' holds {calls} calls");
}
