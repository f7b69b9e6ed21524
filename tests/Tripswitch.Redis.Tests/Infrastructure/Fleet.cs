using System.Globalization;
using StackExchange.Redis;
using Tripswitch.Testing.Redis;

namespace Tripswitch.Redis.Tests.Infrastructure;

/// <summary>One instance of a fleet: a registry shared through its own Redis connection, with its scripts monitored.</summary>
internal sealed class Node : IAsyncDisposable
{
    private int _disposed;

    private Node(CircuitBreakerRegistry registry, ConnectionMultiplexer connection, RedisCircuitSharing sharing, ScriptMonitor scripts)
    {
        Registry = registry;
        Connection = connection;
        Sharing = sharing;
        Scripts = scripts;
    }

    public CircuitBreakerRegistry Registry { get; }

    /// <summary>The instance's own connection (unmonitored), e.g. to drop its subscription.</summary>
    public ConnectionMultiplexer Connection { get; }

    public RedisCircuitSharing Sharing { get; }

    public ScriptMonitor Scripts { get; }

    public CircuitBreaker this[string circuit] => Registry.Get(circuit);

    public static async Task<Node> StartAsync(string configuration, CircuitBreakerRegistry registry, RedisCircuitOptions options)
    {
        ConnectionMultiplexer connection = await ConnectionMultiplexer.ConnectAsync(configuration);
        var scripts = new ScriptMonitor();
        RedisCircuitSharing sharing = RedisCircuitSharing.Attach(registry, MonitoredRedis.Wrap(connection, scripts), options);
        return new Node(registry, connection, sharing, scripts);
    }

    /// <summary>Leaves the fleet and closes the connection (as a process that exits or crashes would).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            await Sharing.DisposeAsync();
            await Connection.DisposeAsync();
        }
    }
}

/// <summary>Several instances sharing circuits under one unique key prefix of a real Redis.</summary>
internal sealed class Fleet : IAsyncDisposable
{
    private readonly List<Node> _nodes;

    private Fleet(string configuration, IDatabase admin, string prefix, RedisCircuitOptions options, List<Node> nodes)
    {
        Configuration = configuration;
        Admin = admin;
        Prefix = prefix;
        Options = options;
        _nodes = nodes;
    }

    /// <summary>The StackExchange.Redis configuration every instance connects with (one server, or a cluster's masters).</summary>
    public string Configuration { get; }

    public IDatabase Admin { get; }

    public string Prefix { get; }

    public RedisCircuitOptions Options { get; }

    public IReadOnlyList<Node> Nodes => _nodes;

    public Node this[int index] => _nodes[index];

    public string Channel => Prefix + "events";

    /// <summary>A key prefix no other test uses.</summary>
    public static string UniquePrefix() => "t" + Guid.NewGuid().ToString("N")[..12] + ":";

    /// <summary>
    /// Starts <paramref name="size"/> instances whose registries use <paramref name="defaults"/>, each attached through its
    /// own connection, and waits until all of them listen to the fleet's channel.
    /// </summary>
    public static Task<Fleet> StartAsync(RedisServer server, IDatabase admin, int size, CircuitBreakerOptions defaults, Action<RedisCircuitOptions>? configure = null)
        => StartAsync(server.Configuration, admin, size, defaults, configure);

    /// <summary>The same on any Redis deployment (e.g. a <see cref="RedisCluster"/>'s configuration).</summary>
    public static async Task<Fleet> StartAsync(string configuration, IDatabase admin, int size, CircuitBreakerOptions defaults, Action<RedisCircuitOptions>? configure = null)
    {
        var options = new RedisCircuitOptions { KeyPrefix = UniquePrefix() };
        configure?.Invoke(options);
        var fleet = new Fleet(configuration, admin, options.KeyPrefix, options, []);
        for (int i = 0; i < size; i++)
        {
            await fleet.AddAsync(new CircuitBreakerRegistry(defaults));
        }

        return fleet;
    }

    /// <summary>Adds an instance (e.g. a late joiner, or one with other options) and waits until it listens to the channel.</summary>
    public async Task<Node> AddAsync(CircuitBreakerRegistry registry)
    {
        Node node = await Node.StartAsync(Configuration, registry, Options);
        _nodes.Add(node);
        int expected = _nodes.Count;
        await Eventually.True(async () => await Subscribers() >= expected, $"{expected} instances subscribed to {Channel}");
        return node;
    }

    /// <summary>How many connections subscribe to the fleet's channel, summed over every server (a cluster's masters each count their own).</summary>
    public async Task<long> Subscribers()
    {
        long total = 0;
        foreach (IServer server in Admin.Multiplexer.GetServers().Where(static server => server.IsConnected && !server.IsReplica))
        {
            RedisResult result = await server.ExecuteAsync("PUBSUB", "NUMSUB", Channel);
            total += (long)result[1];
        }

        return total;
    }

    /// <summary>Every instance's breaker for <paramref name="circuit"/>, once each has read the circuit's shared state.</summary>
    public async Task<CircuitBreaker[]> JoinAsync(string circuit)
    {
        CircuitBreaker[] breakers = [.. _nodes.Select(node => node[circuit])];
        string key = HashKey(circuit);
        await Eventually.True(() => _nodes.All(node => node.Scripts.Completed("Get", key) > 0), $"every instance read '{circuit}'");
        return breakers;
    }

    /// <summary>The circuit's state hash, <c>prefix{c:name}</c>: the documented layout written out, not asked of the code under test.</summary>
    public string HashKey(string circuit) => LayoutHash(Prefix, circuit);

    /// <summary>The circuit's probe leases, <c>prefix{c:name}:leases</c>, written out like <see cref="HashKey"/>.</summary>
    public string LeasesKey(string circuit) => LayoutHash(Prefix, circuit) + ":leases";

    /// <summary>The documented key of a circuit's state hash, <c>prefix{c:name}</c>, written out (not taken from <c>RedisKeyLayout</c>).</summary>
    public static string LayoutHash(string prefix, string circuit) => prefix + "{c:" + circuit + "}";

    /// <summary>A field of the circuit's hash as a number (null when missing).</summary>
    public async Task<long?> Field(string circuit, string field)
    {
        RedisValue value = await Admin.HashGetAsync(HashKey(circuit), field);
        return value.IsNull ? null : long.Parse((string)value!, CultureInfo.InvariantCulture);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (Node node in _nodes)
        {
            await node.DisposeAsync();
        }
    }
}

/// <summary>Commands the tests send to Redis themselves.</summary>
internal static class RedisAdmin
{
    /// <summary>The server's clock (TIME) in milliseconds since the Unix epoch.</summary>
    public static async Task<long> ServerTimeMs(this IDatabase db)
        => (long)await db.ScriptEvaluateAsync("local t = redis.call('TIME') return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)");

    /// <summary>
    /// Opens the circuit in Redis for <paramref name="openForMs"/> (server clock) the way the scripts would, but without
    /// publishing: the instances only learn of it by resyncing.
    /// </summary>
    public static async Task OpenWithoutPublishing(this IDatabase db, string hashKey, long openForMs)
        => await db.ScriptEvaluateAsync(
            """
            local t = redis.call('TIME')
            local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
            redis.call('HINCRBY', KEYS[1], 'gen', 1)
            redis.call('HSET', KEYS[1], 'st', 1, 'until', now + tonumber(ARGV[1]), 'hs', 0, 'att', 1)
            """,
            [hashKey],
            [openForMs]);
}

/// <summary>The failure the tests' calls throw on purpose.</summary>
internal sealed class SimulatedFailureException : Exception
{
    public SimulatedFailureException()
        : base("simulated failure")
    {
    }

    public SimulatedFailureException(string message)
        : base(message)
    {
    }

    public SimulatedFailureException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

internal static class Calls
{
    /// <summary>One failing call; returns false when the circuit rejected it instead.</summary>
    public static bool Fail(this CircuitBreaker breaker)
    {
        try
        {
            breaker.Execute(static () => throw new SimulatedFailureException());
        }
        catch (SimulatedFailureException)
        {
            return true;
        }
        catch (CircuitOpenException)
        {
            return false;
        }

        throw new InvalidOperationException("unreachable");
    }

    public static void Fail(this CircuitBreaker breaker, int times)
    {
        for (int i = 0; i < times; i++)
        {
            if (!breaker.Fail())
            {
                throw new InvalidOperationException($"Call {i + 1} of {times} on '{breaker.Name}' was rejected ({breaker.State}).");
            }
        }
    }

    /// <summary>Runs one call that would succeed; returns whether it ran (false when rejected).</summary>
    public static bool TrySucceed(this CircuitBreaker breaker)
    {
        bool ran = false;
        try
        {
            breaker.Execute(() => ran = true);
        }
        catch (CircuitOpenException)
        {
        }

        return ran;
    }

    /// <summary>Whether a call is rejected now, checking that the rejected callback never ran.</summary>
    public static CircuitOpenException? Rejection(this CircuitBreaker breaker)
    {
        bool ran = false;
        try
        {
            breaker.Execute(() => ran = true);
            return null;
        }
        catch (CircuitOpenException ex)
        {
            return ran ? throw new InvalidOperationException("The callback ran although the call was rejected.") : ex;
        }
    }
}
