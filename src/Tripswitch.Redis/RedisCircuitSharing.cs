using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;
using Tripswitch.Sharing;
using Tripswitch.Telemetry;

namespace Tripswitch.Redis;

/// <summary>
/// Shares the circuits of a <see cref="CircuitBreakerRegistry"/> with every other process configured with the same
/// Redis and key prefix: one circuit per name for the whole fleet.
/// </summary>
/// <remarks>
/// <para>
/// The hot path stays local: no Redis round trip per call. Each process reports its calls' outcomes in batches (at most
/// <see cref="RedisCircuitOptions.ReportInterval"/> late); Lua scripts decide transitions atomically on the server, on the
/// server's clock; every change is pushed to all processes through pub/sub, with a periodic resync as the safety net.
/// Half-open is fleet-wide: exactly <see cref="CircuitBreakerOptions.HalfOpenMaxCalls"/> probe leases exist across the
/// fleet, each expiring after <see cref="CircuitBreakerOptions.HalfOpenProbeTimeout"/>, and successes count fleet-wide.
/// </para>
/// <para>
/// Each circuit keeps its rule: a consecutive-failure circuit opens on the fleet's run of failures, a
/// <see cref="FailureRule.CountWindow"/> or <see cref="FailureRule.TimeWindow"/> circuit on a fleet-wide window the report
/// script keeps on the server's clock (see the package README); meanwhile the instance's own window counts but doesn't
/// trip the circuit alone (<see cref="CircuitCoordinator.JudgesFailureWindow"/>).
/// </para>
/// <para>
/// When Redis is unreachable, slow or returns garbage, every process keeps working on its own local rules and no
/// exception from the store reaches a caller; the condition is logged and counted (<c>tripswitch.redis.errors</c>). When
/// Redis answers again, each process reports what it saw and resyncs.
/// </para>
/// </remarks>
public sealed partial class RedisCircuitSharing : IAsyncDisposable, IDisposable
{
    private static readonly Counter<long> s_errors = TripswitchMetrics.Meter.CreateCounter<long>(
        "tripswitch.redis.errors", unit: "{error}", description: "Failed operations on the shared circuit store (the circuits fell back to their local rules).");

    private readonly CircuitBreakerRegistry _registry;
    private readonly IConnectionMultiplexer _redis;
    private readonly bool _ownsConnection;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, RedisCircuitCoordinator> _circuits = new(StringComparer.Ordinal);
    private readonly ITimer _timer;
    private readonly long _resyncEveryTicks;
    private readonly RedisBatcher _batcher;
    private long _tick;
    private int _resyncCursor;
    private int _degraded;
    private int _disposed;

    private RedisCircuitSharing(CircuitBreakerRegistry registry, IConnectionMultiplexer redis, bool ownsConnection, RedisCircuitOptions options, ILogger? logger)
    {
        _registry = registry;
        _redis = redis;
        _ownsConnection = ownsConnection;
        _logger = logger ?? NullLogger.Instance;
        Options = options;
        Channel = RedisChannel.Literal(RedisKeyLayout.Channel(options.KeyPrefix));
        Database = redis.GetDatabase();
        Time = options.TimeProvider;
        _resyncEveryTicks = Math.Max(1, (long)(options.ResyncInterval / options.ReportInterval));
        _batcher = new RedisBatcher(this, redis);

        _redis.ConnectionFailed += OnConnectionFailed;
        _redis.ConnectionRestored += OnConnectionRestored;
        _ = SubscribeAsync();
        _registry.SetCoordinatorFactory(Join);
        _timer = Time.CreateTimer(static state => ((RedisCircuitSharing)state!).OnTick(), this, options.ReportInterval, options.ReportInterval);
        ResyncAll();
    }

    /// <summary>Whether the store is unreachable or misbehaving now, so the circuits run on their local rules.</summary>
    public bool IsDegraded => Volatile.Read(ref _degraded) != 0;

    internal RedisCircuitOptions Options { get; }

    internal RedisChannel Channel { get; }

    internal IDatabase Database { get; }

    internal TimeProvider Time { get; }

    /// <summary>Shares the registry's circuits through an existing connection (which the caller keeps and disposes).</summary>
    /// <param name="registry">The registry whose circuits join the fleet (those it holds and those it creates later).</param>
    /// <param name="redis">The connection.</param>
    /// <param name="options">The options; <see langword="null"/> for the defaults.</param>
    /// <param name="logger">Where degraded-mode conditions are logged.</param>
    /// <returns>The sharing; dispose it to leave the fleet.</returns>
    public static RedisCircuitSharing Attach(CircuitBreakerRegistry registry, IConnectionMultiplexer redis, RedisCircuitOptions? options = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(redis);
        options ??= new RedisCircuitOptions();
        options.Validate();
        return new RedisCircuitSharing(registry, redis, ownsConnection: false, options, logger);
    }

    /// <summary>
    /// Connects to Redis (any StackExchange.Redis configuration string: hosts, <c>password=</c>, <c>ssl=true</c>, …) and
    /// shares the registry's circuits. A Redis that is down at start is not an error: the circuits run on their local
    /// rules until it answers.
    /// </summary>
    /// <param name="registry">The registry whose circuits join the fleet.</param>
    /// <param name="configuration">The StackExchange.Redis configuration string.</param>
    /// <param name="options">The options; <see langword="null"/> for the defaults.</param>
    /// <param name="logger">Where degraded-mode conditions are logged.</param>
    /// <returns>The sharing; dispose it to leave the fleet and close the connection.</returns>
    public static async Task<RedisCircuitSharing> ConnectAsync(CircuitBreakerRegistry registry, string configuration, RedisCircuitOptions? options = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentException.ThrowIfNullOrWhiteSpace(configuration);
        return await ConnectAsync(registry, ConfigurationOptions.Parse(configuration), options, logger).ConfigureAwait(false);
    }

    /// <summary>
    /// Connects to Redis with full StackExchange.Redis options (for example a certificate validation callback for a
    /// private TLS certificate authority) and shares the registry's circuits. A Redis that is down at start is not an
    /// error: the circuits run on their local rules until it answers.
    /// </summary>
    /// <param name="registry">The registry whose circuits join the fleet.</param>
    /// <param name="configuration">The StackExchange.Redis options; <c>AbortOnConnectFail</c> is turned off.</param>
    /// <param name="options">The options; <see langword="null"/> for the defaults.</param>
    /// <param name="logger">Where degraded-mode conditions are logged.</param>
    /// <returns>The sharing; dispose it to leave the fleet and close the connection.</returns>
    public static async Task<RedisCircuitSharing> ConnectAsync(CircuitBreakerRegistry registry, ConfigurationOptions configuration, RedisCircuitOptions? options = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(configuration);
        options ??= new RedisCircuitOptions();
        options.Validate();
        configuration.AbortOnConnectFail = false; // a Redis that is down must never stop the application
        IConnectionMultiplexer redis = await ConnectionMultiplexer.ConnectAsync(configuration).ConfigureAwait(false);
        return new RedisCircuitSharing(registry, redis, ownsConnection: true, options, logger);
    }

    private async Task SubscribeAsync()
    {
        try
        {
            // StackExchange.Redis keeps the subscription and restores it after a reconnect.
            await _redis.GetSubscriber().SubscribeAsync(Channel, OnMessage).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // Redis down at start is not an error: the resync covers until pub/sub works.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            OnFailed(ex);
        }
    }

    private RedisCircuitCoordinator Join(SharedCircuit circuit)
    {
        var coordinator = new RedisCircuitCoordinator(this, circuit);
        _circuits[circuit.Name] = coordinator;
        coordinator.Resync();
        return coordinator;
    }

    internal void Leave(RedisCircuitCoordinator coordinator) => _circuits.TryRemove(new KeyValuePair<string, RedisCircuitCoordinator>(coordinator.Name, coordinator));

    internal RedisKey[] KeysFor(string name) => [RedisKeyLayout.Hash(Options.KeyPrefix, name), RedisKeyLayout.Leases(Options.KeyPrefix, name)];

    internal void OnSucceeded()
    {
        if (Interlocked.Exchange(ref _degraded, 0) != 0)
        {
            Log.Recovered(_logger);
            foreach (RedisCircuitCoordinator circuit in _circuits.Values)
            {
                circuit.OnStoreRecovered();
            }
        }
    }

    internal void OnFailed(Exception exception)
    {
        s_errors.Add(1, new KeyValuePair<string, object?>("error.type", exception.GetType().Name));
        if (Interlocked.Exchange(ref _degraded, 1) == 0)
        {
            Log.Degraded(_logger, exception.GetType().Name, exception.Message);
        }
    }

    private void OnConnectionFailed(object? sender, ConnectionFailedEventArgs e)
    {
        if (e.ConnectionType == ConnectionType.Interactive)
        {
            OnFailed(e.Exception ?? new InvalidOperationException($"Connection to Redis failed ({e.FailureType})."));
        }
    }

    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs e)
    {
        if (e.ConnectionType == ConnectionType.Interactive)
        {
            ResyncAll();
        }
    }

    private void OnMessage(RedisChannel channel, RedisValue message)
    {
        // "epoch|generation|state|remaining ms|name"; anything else is garbage and ignored.
        string? text = message;
        if (text is null)
        {
            return;
        }

        string[] parts = text.Split('|', 5);
        if (parts.Length == 5
            && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out long epoch)
            && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out long generation)
            && int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out int state) && state is >= 0 and <= 3
            && long.TryParse(parts[3], NumberStyles.None, CultureInfo.InvariantCulture, out long remaining)
            && _circuits.TryGetValue(parts[4], out RedisCircuitCoordinator? circuit))
        {
            circuit.Apply(new SharedState(epoch, generation, (CircuitState)state, remaining, 0), circuit.Version);
        }
    }

    /// <summary>The most circuits one resync reads: a missed message heals within (circuits / this) resync intervals.</summary>
    internal const int MaxResyncPerInterval = 1_000;

    /// <summary>
    /// Every report interval: hand back idle leases, and send every circuit's outcome report in one batch; every resync
    /// interval, read the next slice of the circuits. Pub/sub is the primary path for state changes; the resync is only
    /// the safety net, so it never reads every key every interval.
    /// </summary>
    private void OnTick()
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            return;
        }

        bool resync = ++_tick % _resyncEveryTicks == 0;
        List<PendingReport>? reports = null;
        foreach (RedisCircuitCoordinator circuit in _circuits.Values)
        {
            circuit.ReleaseIdleLeases();
            if (circuit.TryTakeReport(out PendingReport report))
            {
                (reports ??= []).Add(report);
            }
        }

        if (reports is not null)
        {
            _batcher.Report(reports);
        }

        if (resync)
        {
            _batcher.Resync(NextResyncSlice());
        }
    }

    private List<RedisCircuitCoordinator> NextResyncSlice()
    {
        RedisCircuitCoordinator[] all = [.. _circuits.Values];
        if (all.Length <= MaxResyncPerInterval)
        {
            return [.. all];
        }

        int start = _resyncCursor % all.Length;
        _resyncCursor = (start + MaxResyncPerInterval) % all.Length;
        var slice = new List<RedisCircuitCoordinator>(MaxResyncPerInterval);
        for (int i = 0; i < MaxResyncPerInterval; i++)
        {
            slice.Add(all[(start + i) % all.Length]);
        }

        return slice;
    }

    /// <summary>Reads every circuit (after a reconnect, when pub/sub messages may have been missed), in batches.</summary>
    private void ResyncAll() => _batcher.Resync([.. _circuits.Values]);

    /// <summary>Leaves the fleet: the circuits go on with their local rules; an owned connection is closed.</summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>Leaves the fleet: the circuits go on with their local rules; an owned connection is closed.</summary>
    /// <returns>A task that completes when the sharing has stopped.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _timer.Dispose();
        _registry.SetCoordinatorFactory(null);
        _circuits.Clear();
        _redis.ConnectionFailed -= OnConnectionFailed;
        _redis.ConnectionRestored -= OnConnectionRestored;
        try
        {
            await _redis.GetSubscriber().UnsubscribeAsync(Channel).ConfigureAwait(false);
        }
        catch (RedisException)
        {
            // Leaving while Redis is down: nothing to unsubscribe from.
        }

        if (_ownsConnection)
        {
            await _redis.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1, Level = LogLevel.Warning, Message = "The shared circuit store is unavailable ({ErrorType}: {ErrorMessage}); circuits run on their local rules until it answers again")]
        public static partial void Degraded(ILogger logger, string errorType, string errorMessage);

        [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "The shared circuit store answers again; circuits report what they saw and resync")]
        public static partial void Recovered(ILogger logger);
    }
}

/// <summary>
/// A circuit's state as the Redis scripts return and publish it; <paramref name="Attempt"/> is the fleet's count of
/// openings since it was last closed (-1 when unknown: the published messages don't carry it).
/// </summary>
internal readonly record struct SharedState(long Epoch, long Generation, CircuitState State, long RemainingMs, long Extra, long Attempt = -1);
