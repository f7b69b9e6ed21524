using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using Tripswitch.Hosting.Configuration;
using Tripswitch.Hosting.Logging;

namespace Tripswitch.Hosting;

/// <summary>
/// Owns the container's <see cref="CircuitBreakerRegistry"/>: builds it from the validated <see cref="TripswitchOptions"/>,
/// logs its circuits' transitions, and applies configuration reloads to it with
/// <see cref="CircuitBreakerRegistry.Reconfigure"/>, so every circuit keeps its state and counts. A reload whose options
/// are invalid is rejected and logged as an error; nothing is thrown into the configuration system.
/// </summary>
internal sealed class TripswitchRegistryHost : IDisposable
{
    private readonly IOptionsFactory<TripswitchOptions> _factory;
    private readonly TripswitchOptionsChangeTokenSource _changeTokenSource;
    private readonly ILogger _logger;
    private readonly CircuitTransitionLogger _transitionLogger;
    private readonly ReloadTokens _sources;
    private TripswitchSettings[]? _lastSeen;
    private readonly Lock _reloadLock = new();
    private readonly IDisposable? _reloadRegistration;
    private volatile TripswitchOptions _current;

    public TripswitchRegistryHost(
        IOptionsFactory<TripswitchOptions> factory,
        TripswitchOptionsChangeTokenSource changeTokenSource,
        IEnumerable<TripswitchConfigurationSource> sources,
        ILoggerFactory? loggerFactory = null)
    {
        _factory = factory;
        _changeTokenSource = changeTokenSource;
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger(TripswitchLog.Category);
        _transitionLogger = new CircuitTransitionLogger(_logger);
        _sources = new ReloadTokens([.. sources]);
        lock (_reloadLock)
        {
            // Listen before reading the configuration, so no change between the two is missed. A change that arrives
            // while the registry is being built waits for the lock (or, raised on this thread, finds no registry yet and
            // leaves it to the snapshot below).
            if (_sources.Count > 0)
            {
                _reloadRegistration = ChangeToken.OnChange(_sources.GetReloadToken, OnConfigurationChanged);
            }

            try
            {
                // Built afresh (validated: OptionsValidationException when invalid) and paired with the configuration it
                // was read from, so a reload that changes nothing in Tripswitch's sections is recognised as such.
                _lastSeen = _sources.Count > 0 ? _sources.Read() : null;
                _current = factory.Create(Options.DefaultName);
                Registry = new CircuitBreakerRegistry(_current.ToRegistryOptions());
            }
            catch
            {
                _reloadRegistration?.Dispose();
                throw;
            }

            Registry.StateChanged += _transitionLogger.OnStateChanged;
            Registry.Rejected += _transitionLogger.OnRejected;
        }
    }

    /// <summary>The registry the container hands out.</summary>
    public CircuitBreakerRegistry Registry { get; }

    /// <summary>The options in force: those the registry was built with, or of the last reload that was applied.</summary>
    public TripswitchOptions Current => _current;

    /// <summary>Rebuilds the options from configuration and applies them, or rejects them and logs why.</summary>
    internal void OnConfigurationChanged()
    {
        lock (_reloadLock)
        {
            if (Registry is null)
            {
                return; // raised during construction, which reads the configuration after subscribing
            }

            // The configuration's reload token fires for any change anywhere in it (and file watchers often fire twice):
            // act only when Tripswitch's own sections changed.
            TripswitchSettings[] seen = _sources.Read();
            if (_lastSeen is not null && seen.SequenceEqual(_lastSeen))
            {
                return;
            }

            _lastSeen = seen;
            TripswitchOptions options;
            try
            {
                options = _factory.Create(Options.DefaultName);
                Registry.Reconfigure(options.ToRegistryOptions());
            }
            catch (OptionsValidationException ex)
            {
                TripswitchLog.ConfigurationReloadRejected(_logger, string.Join(" ", ex.Failures));
                return;
            }
#pragma warning disable CA1031 // Whatever goes wrong (a configure delegate that throws, a changed TimeProvider), the reload is rejected, logged, and never thrown into the configuration system's callback.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                TripswitchLog.ConfigurationReloadRejected(_logger, $"{ex.GetType().FullName}: {ex.Message}");
                return;
            }

            _current = options;
            TripswitchLog.ConfigurationReloaded(_logger, Registry.Count);
        }

        // Outside the lock: IOptionsMonitor listeners run now, and see valid options.
        try
        {
            _changeTokenSource.Signal();
        }
#pragma warning disable CA1031 // A throwing IOptionsMonitor listener (or the configuration changing again to something invalid meanwhile) must not reach the configuration system.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            TripswitchLog.OptionsListenerFailed(_logger, ex.GetType().FullName ?? ex.GetType().Name, ex.Message);
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _reloadRegistration?.Dispose();
        Registry.StateChanged -= _transitionLogger.OnStateChanged;
        Registry.Rejected -= _transitionLogger.OnRejected;
    }

    /// <summary>The configuration sections added with AddTripswitch(IConfiguration); one token fires when any of them reloads.</summary>
    private sealed class ReloadTokens(TripswitchConfigurationSource[] sources)
    {
        public int Count => sources.Length;

        public IChangeToken GetReloadToken()
            => sources.Length == 1
                ? sources[0].Configuration.GetReloadToken()
                : new CompositeChangeToken([.. sources.Select(s => s.Configuration.GetReloadToken())]);

        /// <summary>What the sections say, parsed, to tell (structurally) whether they changed.</summary>
        public TripswitchSettings[] Read() => [.. sources.Select(static s => s.Read())];
    }
}
