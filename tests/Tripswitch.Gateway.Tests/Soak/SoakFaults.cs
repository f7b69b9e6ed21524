using System.Collections.Concurrent;
using System.Globalization;
using Tripswitch.Testing;
using Tripswitch.Testing.Redis;

namespace Tripswitch.Gateway.Tests.Soak;

/// <summary>
/// The faults the soak injects, one after the other with a pause between them, until its deadline: the upstream
/// killed (every open connection aborted) and started again on its port, redis-server killed and started again (empty),
/// and a model failing every request for a while (its circuit opens, in both gateways through Redis). Streams cut
/// midway and clients that go away are part of the traffic itself. Everything is running and healthy again when
/// <see cref="RunAsync"/> completes.
/// </summary>
internal sealed class SoakFaults(RestartableServer upstreamServer, SoakUpstream upstream, RedisServer redis)
{
    private static readonly TimeSpan Pause = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan Down = TimeSpan.FromSeconds(1.5);
    private static readonly TimeSpan FailingFor = TimeSpan.FromSeconds(3);

    private readonly ConcurrentDictionary<string, int> _injected = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<long> _upstreamKills = new();

    /// <summary>How many of each fault were injected.</summary>
    public IReadOnlyDictionary<string, int> Injected => _injected;

    /// <summary>Injects faults until <paramref name="duration"/> has passed (each fault runs to its end, then the loop stops).</summary>
    public async Task RunAsync(TimeSpan duration, CancellationToken stop)
    {
        long started = TimeProvider.System.GetTimestamp();
        for (int i = 0; TimeProvider.System.GetElapsedTime(started) < duration - FailingFor - Pause; i++)
        {
            await Task.Delay(Pause, stop);
            switch (i % 3)
            {
                case 0:
                    _upstreamKills.Enqueue(TimeProvider.System.GetTimestamp());
                    await upstreamServer.KillAsync();
                    await Task.Delay(Down, stop);
                    await upstreamServer.RestartAsync();
                    Count("upstream killed and restarted");
                    break;
                case 1:
                    await redis.KillAsync();
                    await Task.Delay(Down, stop);
                    await redis.StartAsync();
                    Count("redis-server killed and restarted");
                    break;
                default:
                    string model = SoakTraffic.Models[(i / 3) % SoakTraffic.Models.Length];
                    upstream.Fail(model);
                    await Task.Delay(FailingFor, stop);
                    upstream.Heal(model);
                    Count($"{model} failing for {FailingFor.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s");
                    break;
            }
        }
    }

    /// <summary>
    /// Whether the upstream was killed between the two timestamps. A kill aborts every response the upstream was
    /// sending, and the gateway then aborts the client's connection of a response already started (the only honest way
    /// to say it was cut); the client's kernel may drop the head it had not read yet when that reset arrives, so the
    /// client sees a reset without a status.
    /// </summary>
    public bool UpstreamKilledBetween(long start, long end) => _upstreamKills.Any(kill => kill >= start && kill <= end);

    private void Count(string fault) => _injected.AddOrUpdate(fault, 1, static (_, n) => n + 1);
}
