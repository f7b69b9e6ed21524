using StackExchange.Redis;

namespace Tripswitch.Redis;

/// <summary>
/// Sends the periodic work of all circuits in as few script calls as possible: each report interval one call with every
/// circuit's outcome report, each resync interval one call reading a slice of the circuits. StackExchange.Redis pipelines
/// the calls of one batch, so an instance makes one round trip per interval however many circuits are active.
/// </summary>
/// <remarks>
/// A script may only touch keys of one hash slot on Redis Cluster, so there a batch is one call per slot that has
/// circuits in it (every key of a circuit shares its slot, see <see cref="RedisKeyLayout"/>). A call carries at most
/// <see cref="MaxPerCall"/> circuits, so one script never keeps the server busy for long.
/// </remarks>
internal sealed class RedisBatcher(RedisCircuitSharing sharing, IConnectionMultiplexer redis)
{
    /// <summary>The most circuits one script call carries (a few milliseconds of server time at most).</summary>
    public const int MaxPerCall = 500;

    /// <summary>Sends the reports, one call per slot (cluster) and per <see cref="MaxPerCall"/> circuits.</summary>
    /// <param name="reports">The reports taken this interval.</param>
    public void Report(List<PendingReport> reports)
    {
        foreach (PendingReport[] batch in Split(reports, static report => report.Circuit))
        {
            _ = ReportAsync(batch);
        }
    }

    /// <summary>Reads the circuits' states, one call per slot (cluster) and per <see cref="MaxPerCall"/> circuits.</summary>
    /// <param name="circuits">The circuits to read.</param>
    public void Resync(IReadOnlyList<RedisCircuitCoordinator> circuits)
    {
        foreach (RedisCircuitCoordinator[] batch in Split(circuits, static circuit => circuit))
        {
            _ = ResyncAsync(batch);
        }
    }

    private async Task ReportAsync(PendingReport[] batch)
    {
        var keys = new RedisKey[batch.Length * 2];
        var args = new RedisValue[3 + (batch.Length * RedisScripts.ReportArgs)];
        Header(args);
        for (int i = 0; i < batch.Length; i++)
        {
            batch[i].Circuit.Keys.CopyTo(keys, i * 2);
            batch[i].Args.CopyTo(args, 3 + (i * RedisScripts.ReportArgs));
        }

        SharedState[]? states = null;
        Exception? error = null;
        try
        {
            states = ParseMany(await sharing.Database.ScriptEvaluateAsync(RedisScripts.Report, keys, args).ConfigureAwait(false), batch.Length);
        }
#pragma warning disable CA1031 // No store failure may reach a caller: each circuit degrades to its local rules.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            error = ex;
        }

        for (int i = 0; i < batch.Length; i++)
        {
            batch[i].Circuit.OnReported(batch[i], states?[i], error);
        }
    }

    private async Task ResyncAsync(RedisCircuitCoordinator[] batch)
    {
        var keys = new RedisKey[batch.Length * 2];
        var args = new RedisValue[3 + batch.Length];
        var versions = new long[batch.Length];
        Header(args);
        for (int i = 0; i < batch.Length; i++)
        {
            batch[i].Keys.CopyTo(keys, i * 2);
            args[3 + i] = batch[i].Name;
            versions[i] = batch[i].Version; // what each circuit knew when the read was sent
        }

        try
        {
            SharedState[] states = ParseMany(await sharing.Database.ScriptEvaluateAsync(RedisScripts.GetMany, keys, args).ConfigureAwait(false), batch.Length);
            for (int i = 0; i < batch.Length; i++)
            {
                batch[i].OnAnswer(states[i], versions[i]);
            }
        }
#pragma warning disable CA1031 // No store failure may reach a caller: each circuit degrades to its local rules.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            foreach (RedisCircuitCoordinator circuit in batch)
            {
                circuit.OnStoreFailed(ex);
            }
        }
    }

    private void Header(RedisValue[] args)
    {
        args[0] = sharing.Channel.ToString();
        args[1] = RedisValue.EmptyString;
        args[2] = (long)sharing.Options.KeyExpiry.TotalMilliseconds;
    }

    private static SharedState[] ParseMany(RedisResult result, int count)
    {
        if (result.Resp2Type != ResultType.Array || result.Length != count)
        {
            throw new InvalidDataException($"The circuit store answered a batch of {count} with an unexpected reply ({result.Resp2Type}).");
        }

        var states = new SharedState[count];
        for (int i = 0; i < count; i++)
        {
            states[i] = RedisCircuitCoordinator.Parse(result[i]);
        }

        return states;
    }

    /// <summary>Splits the items into calls: by hash slot on a cluster, and at most <see cref="MaxPerCall"/> per call.</summary>
    private IEnumerable<T[]> Split<T>(IReadOnlyList<T> items, Func<T, RedisCircuitCoordinator> circuitOf)
    {
        IEnumerable<IEnumerable<T>> groups = IsCluster()
            ? items.GroupBy(item => redis.HashSlot(circuitOf(item).Keys[0]))
            : [items];
        foreach (IEnumerable<T> group in groups)
        {
            foreach (T[] chunk in group.Chunk(MaxPerCall))
            {
                yield return chunk;
            }
        }
    }

    private bool IsCluster()
    {
        foreach (IServer server in redis.GetServers())
        {
            if (server.ServerType == ServerType.Cluster)
            {
                return true;
            }
        }

        return false;
    }
}
