using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Tripswitch.Sharing;

namespace Tripswitch;

/// <summary>
/// Per-endpoint circuit breakers: one breaker per key such as
/// <c>openai/gpt-4.1</c>, created on first use, named after its key, and bounded in number.
/// </summary>
/// <remarks>
/// <para>Thread-safe: callers racing on a new key get the same instance.</para>
/// <para>
/// It has every <c>Execute</c> overload the breaker has, with the key first, each exactly <c>Get(key).Execute…(…)</c>
/// (a test holds the two lists equal). For the two-step primitive, use <c>Get(key).TryAcquirePermit(…)</c>.
/// </para>
/// <para>
/// Past <see cref="CircuitBreakerRegistryOptions.Capacity"/>, idle closed breakers are evicted least recently used
/// first, so a stream of distinct keys cannot grow memory past the bound. Open, half-open and isolated breakers and
/// breakers with calls in flight are never evicted (so while more than the capacity are tripped at once the registry
/// holds them all). A caller still holding an evicted breaker keeps a working breaker that the registry no longer lists.
/// </para>
/// </remarks>
public sealed class CircuitBreakerRegistry
{
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly Lock _configLock = new();
    private volatile Configuration _config;
    private readonly Lock _evictionLock = new();
    private int _count;
    private int _nextEvictionCount;
    private Func<SharedCircuit, CircuitCoordinator?>? _coordinatorFactory;

    // Moved by every access and addition (see Touch): ordering entries by their stamps is least-recently-used order.
    private long _clock;

    /// <summary>Creates a registry whose breakers all start from <paramref name="defaults"/>.</summary>
    /// <param name="defaults">The default options; <see langword="null"/> for <see cref="CircuitBreakerOptions"/>'s defaults.</param>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public CircuitBreakerRegistry(CircuitBreakerOptions? defaults = null)
        : this(new CircuitBreakerRegistryOptions { Defaults = defaults ?? new CircuitBreakerOptions() })
    {
    }

    /// <summary>Creates a registry with defaults, per-key overrides and a capacity. Every option is validated now.</summary>
    /// <param name="options">The registry options.</param>
    /// <exception cref="ArgumentException">An option is out of range; the message names the circuit and the option.</exception>
    public CircuitBreakerRegistry(CircuitBreakerRegistryOptions options)
    {
        _config = Configuration.From(options);
        _nextEvictionCount = _config.Capacity;
    }

    /// <summary>Raised after a state change of any breaker in the registry (see <see cref="CircuitBreaker.StateChanged"/>).</summary>
    public event EventHandler<CircuitTransition>? StateChanged;

    /// <summary>Raised for every call a breaker of the registry rejects (see <see cref="CircuitBreaker.Rejected"/>).</summary>
    public event EventHandler<CircuitRejection>? Rejected;

    /// <summary>How many breakers the registry holds now.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Returns the breaker for <paramref name="key"/>, creating it on first use.</summary>
    /// <param name="key">The circuit key, for example <c>openai/gpt-4.1</c>.</param>
    /// <returns>The breaker, named after <paramref name="key"/>.</returns>
    /// <exception cref="ArgumentException"><paramref name="key"/> is null, empty or white space.</exception>
    public CircuitBreaker Get(string key)
    {
        if (key is not null && _entries.TryGetValue(key, out Entry? entry))
        {
            Touch(entry);
            return entry.Breaker;
        }

        return GetOrAdd(key!);
    }

    /// <summary>Returns the breaker for <paramref name="key"/> if the registry holds one, without creating it.</summary>
    /// <param name="key">The circuit key.</param>
    /// <param name="breaker">The breaker, when found.</param>
    /// <returns>Whether the registry holds a breaker for the key.</returns>
    public bool TryGet(string key, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out CircuitBreaker? breaker)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (_entries.TryGetValue(key, out Entry? entry))
        {
            breaker = entry.Breaker;
            return true;
        }

        breaker = null;
        return false;
    }

    /// <summary>The state of every breaker the registry holds, by key.</summary>
    /// <returns>A snapshot; reading it moves open breakers whose open period is over to half-open.</returns>
    public IReadOnlyDictionary<string, CircuitState> Status()
    {
        var status = new Dictionary<string, CircuitState>(StringComparer.Ordinal);
        foreach (KeyValuePair<string, Entry> pair in _entries)
        {
            status[pair.Key] = pair.Value.Breaker.State;
        }

        return status;
    }

    /// <summary>A summary of every breaker the registry holds, by key (see <see cref="CircuitBreaker.GetSummary"/>).</summary>
    /// <returns>A snapshot; reading it moves open breakers whose open period is over to half-open.</returns>
    public IReadOnlyDictionary<string, CircuitSummary> GetSummaries()
    {
        var summaries = new Dictionary<string, CircuitSummary>(StringComparer.Ordinal);
        foreach (KeyValuePair<string, Entry> pair in _entries)
        {
            summaries[pair.Key] = pair.Value.Breaker.GetSummary();
        }

        return summaries;
    }

    /// <summary>Runs <paramref name="action"/> through the breaker of <paramref name="key"/>.</summary>
    /// <typeparam name="T">The result type.</typeparam>
    /// <param name="key">The circuit key.</param>
    /// <param name="action">The call to protect.</param>
    /// <returns>What <paramref name="action"/> returned.</returns>
    /// <exception cref="CircuitOpenException">The circuit rejected the call.</exception>
    public T Execute<T>(string key, Func<T> action) => Get(key).Execute(action);

    /// <summary>Runs <paramref name="action"/> through the breaker of <paramref name="key"/>.</summary>
    /// <param name="key">The circuit key.</param>
    /// <param name="action">The call to protect.</param>
    /// <exception cref="CircuitOpenException">The circuit rejected the call.</exception>
    public void Execute(string key, Action action) => Get(key).Execute(action);

    /// <summary>Runs <paramref name="action"/> through the breaker of <paramref name="key"/>, or <paramref name="fallback"/> when it rejects the call.</summary>
    /// <typeparam name="T">The result type.</typeparam>
    /// <param name="key">The circuit key.</param>
    /// <param name="action">The call to protect.</param>
    /// <param name="fallback">Gets the reason for falling back.</param>
    /// <returns>What <paramref name="action"/> or <paramref name="fallback"/> returned.</returns>
    public T Execute<T>(string key, Func<T> action, Func<Exception, T> fallback) => Get(key).Execute(action, fallback);

    /// <summary>Runs an asynchronous call through the breaker of <paramref name="key"/>.</summary>
    /// <typeparam name="T">The result type.</typeparam>
    /// <param name="key">The circuit key.</param>
    /// <param name="action">The call to protect.</param>
    /// <param name="cancellationToken">The caller's token.</param>
    /// <returns>What <paramref name="action"/> returned.</returns>
    /// <exception cref="CircuitOpenException">The circuit rejected the call.</exception>
    [OverloadResolutionPriority(1)]
    public ValueTask<T> ExecuteAsync<T>(string key, Func<CancellationToken, ValueTask<T>> action, CancellationToken cancellationToken = default)
        => Get(key).ExecuteAsync(action, cancellationToken);

    /// <summary>Runs an asynchronous call through the breaker of <paramref name="key"/>.</summary>
    /// <param name="key">The circuit key.</param>
    /// <param name="action">The call to protect.</param>
    /// <param name="cancellationToken">The caller's token.</param>
    /// <returns>A task that completes when the call has.</returns>
    /// <exception cref="CircuitOpenException">The circuit rejected the call.</exception>
    [OverloadResolutionPriority(1)]
    public ValueTask ExecuteAsync(string key, Func<CancellationToken, ValueTask> action, CancellationToken cancellationToken = default)
        => Get(key).ExecuteAsync(action, cancellationToken);

    /// <summary>Runs a <see cref="Task{TResult}"/>-returning call through the breaker of <paramref name="key"/>.</summary>
    /// <typeparam name="T">The result type.</typeparam>
    /// <param name="key">The circuit key.</param>
    /// <param name="action">The call to protect.</param>
    /// <param name="cancellationToken">The caller's token.</param>
    /// <returns>What <paramref name="action"/> returned.</returns>
    /// <exception cref="CircuitOpenException">The circuit rejected the call.</exception>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters", Justification = "Mirrors CircuitBreaker.ExecuteAsync overload for overload (the registry has every Execute overload of the breaker).")]
    public Task<T> ExecuteAsync<T>(string key, Func<CancellationToken, Task<T>> action, CancellationToken cancellationToken = default)
        => Get(key).ExecuteAsync(action, cancellationToken);

    /// <summary>Runs a <see cref="Task"/>-returning call through the breaker of <paramref name="key"/>.</summary>
    /// <param name="key">The circuit key.</param>
    /// <param name="action">The call to protect.</param>
    /// <param name="cancellationToken">The caller's token.</param>
    /// <returns>A task that completes when the call has.</returns>
    /// <exception cref="CircuitOpenException">The circuit rejected the call.</exception>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters", Justification = "Mirrors CircuitBreaker.ExecuteAsync overload for overload (the registry has every Execute overload of the breaker).")]
    public Task ExecuteAsync(string key, Func<CancellationToken, Task> action, CancellationToken cancellationToken = default)
        => Get(key).ExecuteAsync(action, cancellationToken);

    /// <summary>Runs an asynchronous call through the breaker of <paramref name="key"/>, or <paramref name="fallback"/> when it rejects the call.</summary>
    /// <typeparam name="T">The result type.</typeparam>
    /// <param name="key">The circuit key.</param>
    /// <param name="action">The call to protect.</param>
    /// <param name="fallback">Gets the reason for falling back and the token.</param>
    /// <param name="cancellationToken">The caller's token.</param>
    /// <returns>What <paramref name="action"/> or <paramref name="fallback"/> returned.</returns>
    public ValueTask<T> ExecuteAsync<T>(
        string key,
        Func<CancellationToken, ValueTask<T>> action,
        Func<Exception, CancellationToken, ValueTask<T>> fallback,
        CancellationToken cancellationToken = default)
        => Get(key).ExecuteAsync(action, fallback, cancellationToken);

    private CircuitBreaker GetOrAdd(string key)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(key);
        Configuration config = _config;
        var created = new Entry(new CircuitBreaker(config.OptionsFor(key), key)) { LastAccess = long.MaxValue }; // never evicted before it is stamped
        Entry entry = _entries.GetOrAdd(key, created);
        if (ReferenceEquals(entry, created))
        {
            created.Breaker.Registry = this; // from now on, its transitions and rejections are the registry's events too
            if (Volatile.Read(ref _coordinatorFactory) is { } factory)
            {
                created.Breaker.SetCoordinator(factory);
            }

            if (!ReferenceEquals(config, _config))
            {
                // Reconfigure ran between reading the configuration and adding this breaker: apply the newest.
                lock (_configLock)
                {
                    created.Breaker.Reconfigure(_config.OptionsFor(key));
                }
            }

            // Stamped before any eviction can see it: the newest breaker is the most recently used.
            created.LastAccess = Interlocked.Increment(ref _clock);
            int count = Interlocked.Increment(ref _count);
            if (count > Volatile.Read(ref _nextEvictionCount))
            {
                int capacity = _config.Capacity;
                Evict(created, wait: count > capacity + (EvictionBatch(capacity) / 2));
            }
        }

        Touch(entry);
        return entry.Breaker;
    }

    /// <summary>
    /// Gives every breaker of the registry (those it holds now and those it creates later) a coordinator made by
    /// <paramref name="factory"/> (see <see cref="CircuitBreaker.SetCoordinator"/>): the seam through which shared state
    /// (Tripswitch.Redis, an in-memory fleet, your own store) joins a fleet. The coordinators it replaces, and those of
    /// breakers the registry evicts, are disposed when they implement <see cref="IDisposable"/>.
    /// </summary>
    /// <param name="factory">Makes each circuit's coordinator; <see langword="null"/> detaches them all.</param>
    public void SetCoordinatorFactory(Func<SharedCircuit, CircuitCoordinator?>? factory)
    {
        Volatile.Write(ref _coordinatorFactory, factory);
        foreach (KeyValuePair<string, Entry> pair in _entries)
        {
            pair.Value.Breaker.SetCoordinator(factory);
        }
    }

    /// <summary>The breakers the registry holds now.</summary>
    internal IEnumerable<CircuitBreaker> Breakers => _entries.Select(static pair => pair.Value.Breaker);

    /// <summary>
    /// Applies new defaults, overrides and capacity. Every breaker the registry holds gets its new options at once and
    /// keeps its state, counts and transition log. Everything is validated first: on an invalid value nothing changes.
    /// </summary>
    /// <param name="options">The new registry options.</param>
    /// <exception cref="ArgumentException">An option is out of range (the message names the circuit and the option), or the time provider changed.</exception>
    public void Reconfigure(CircuitBreakerRegistryOptions options)
    {
        var config = Configuration.From(options);
        lock (_configLock)
        {
            if (!ReferenceEquals(config.Defaults.TimeProvider, _config.Defaults.TimeProvider))
            {
                throw new ArgumentException("The TimeProvider of a registry's circuits cannot change while they run.", nameof(options));
            }

            _config = config;
            foreach (KeyValuePair<string, Entry> pair in _entries)
            {
                pair.Value.Breaker.Reconfigure(config.OptionsFor(pair.Key));
            }

            Volatile.Write(ref _nextEvictionCount, config.Capacity);
        }

        if (Volatile.Read(ref _count) > config.Capacity)
        {
            Evict(keep: null, wait: true);
        }
    }

    private void Touch(Entry entry)
    {
        // Every access moves the clock and stamps its entry, so eviction follows exact least-recently-used order for one
        // thread; concurrent accesses may race on the plain (not interlocked) increment and tie, which only blurs the
        // order of breakers used at the same moment. Touching the most recently used breaker again writes nothing, so a
        // hot key doesn't bounce a cache line.
        long clock = Volatile.Read(ref _clock);
        if (entry.LastAccess != clock)
        {
            Volatile.Write(ref _clock, ++clock);
            entry.LastAccess = clock;
        }
    }

    /// <summary>
    /// Evicts idle closed breakers, least recently used first, down to a batch under the capacity, never
    /// <paramref name="keep"/> (the breaker being added). A thread that finds another one evicting waits for it only
    /// when the registry is well past its capacity, which bounds the count however many threads add at once.
    /// </summary>
    private void Evict(Entry? keep, bool wait)
    {
        if (wait)
        {
            _evictionLock.Enter();
        }
        else if (!_evictionLock.TryEnter())
        {
            return; // another thread is evicting
        }

        try
        {
            int capacity = _config.Capacity;
            int batch = EvictionBatch(capacity);
            if (Volatile.Read(ref _count) <= capacity)
            {
                return; // the thread before this one evicted enough
            }

            // A batch more than needed, so the scan (O(n log n)) runs once per batch of additions, not per addition.
            int target = capacity - batch;
            var candidates = new List<(long Stamp, string Key, Entry Entry)>();
            foreach (KeyValuePair<string, Entry> pair in _entries)
            {
                if (!ReferenceEquals(pair.Value, keep) && IsIdle(pair.Value))
                {
                    candidates.Add((pair.Value.LastAccess, pair.Key, pair.Value));
                }
            }

            candidates.Sort(static (a, b) => a.Stamp.CompareTo(b.Stamp));
            foreach ((_, string key, Entry entry) in candidates)
            {
                if (Volatile.Read(ref _count) <= target)
                {
                    break;
                }

                // Checked again just before removal: a breaker that tripped or started a call since the scan stays.
                if (IsIdle(entry) && _entries.TryRemove(new KeyValuePair<string, Entry>(key, entry)))
                {
                    entry.Breaker.Registry = null;
                    entry.Breaker.Machine.Detach();
                    entry.Breaker.SetCoordinator(null);
                    Interlocked.Decrement(ref _count);
                }
            }

            // When too few breakers were evictable (many are tripped), don't rescan on every addition.
            int count = Volatile.Read(ref _count);
            Volatile.Write(ref _nextEvictionCount, count > capacity ? count + batch : capacity);
        }
        finally
        {
            _evictionLock.Exit();
        }

        static bool IsIdle(Entry entry) => entry.Breaker.Machine.RawState == CircuitState.Closed && entry.Breaker.Machine.Counts.InFlight == 0;
    }

    private static int EvictionBatch(int capacity) => Math.Max(1, capacity / 16);

    /// <summary>Raises <see cref="StateChanged"/> for a breaker the registry holds (called by the breaker itself).</summary>
    internal void OnBreakerStateChanged(CircuitBreaker breaker, CircuitTransition transition) => StateChanged?.Invoke(breaker, transition);

    /// <summary>Raises <see cref="Rejected"/> for a breaker the registry holds (called by the breaker itself).</summary>
    internal void OnBreakerRejected(CircuitBreaker breaker, CircuitRejection rejection) => Rejected?.Invoke(breaker, rejection);

    /// <summary>Validated defaults, overrides and capacity, replaced as a whole.</summary>
    private sealed class Configuration
    {
        private Configuration(CircuitBreakerOptions defaults, Dictionary<string, CircuitBreakerOptions> overrides, int capacity)
        {
            Defaults = defaults;
            Overrides = overrides;
            Capacity = capacity;
        }

        public CircuitBreakerOptions Defaults { get; }

        public Dictionary<string, CircuitBreakerOptions> Overrides { get; }

        public int Capacity { get; }

        public static Configuration From(CircuitBreakerRegistryOptions options)
        {
            ArgumentNullException.ThrowIfNull(options);
            var errors = new List<OptionError>();
            var resolved = options.Resolve(errors);
            OptionChecks.ThrowIfAny(errors);
            (CircuitBreakerOptions defaults, Dictionary<string, CircuitBreakerOptions> overrides) = resolved!.Value;
            return new Configuration(defaults, overrides, options.Capacity);
        }

        /// <summary>
        /// The options of <paramref name="key"/>'s circuit: its override, or the defaults. Validated, and shared by
        /// every circuit that runs with them (never changed: a reconfiguration makes a new configuration).
        /// </summary>
        public CircuitBreakerOptions OptionsFor(string key)
            => Overrides.TryGetValue(key, out CircuitBreakerOptions? configured) ? configured : Defaults;
    }

    private sealed class Entry(CircuitBreaker breaker)
    {
        public CircuitBreaker Breaker { get; } = breaker;

        public long LastAccess;
    }
}
