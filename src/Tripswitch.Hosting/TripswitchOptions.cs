namespace Tripswitch.Hosting;

/// <summary>
/// What <c>services.AddTripswitch(...)</c> configures: the options every circuit starts from, per-circuit overrides,
/// the registry's capacity, and which circuits are critical for the health check.
/// </summary>
/// <remarks>
/// <para>
/// From configuration (for example the <c>Tripswitch</c> section of appsettings.json):
/// <code language="json">
/// "Tripswitch": {
///   "Capacity": 10000,
///   "Defaults": { "FailureThreshold": 5, "RecoveryTimeout": "00:01:00" },
///   "Circuits": {
///     "openai/gpt-4.1": { "FailureThreshold": 3 },
///     "openai/gpt-4.1-mini": { "Mode": "MetricsOnly" }
///   },
///   "Critical": [ "openai/gpt-4.1" ]
/// }
/// </code>
/// A circuit's section overrides only the options it names; the others come from <see cref="Defaults"/>. Circuit names
/// are case-sensitive and must be the keys the circuits are used with. The configuration path separator <c>:</c> cannot
/// appear in a circuit name given in configuration (<c>openai/gpt-4.1</c> works, <c>openai:gpt-4.1</c> does not); such
/// circuits can be configured from code with <see cref="Configure(string, Action{CircuitBreakerOptions})"/>.
/// </para>
/// <para>
/// Delegates (<see cref="CircuitBreakerOptions.ShouldHandle"/>, <see cref="CircuitBreakerOptions.BreakDurationGenerator"/>,
/// <see cref="CircuitBreakerOptions.RetryAfterExtractor"/>) and <see cref="CircuitBreakerOptions.TimeProvider"/> can only
/// be set from code. Code and configuration combine in the order they were added; per-circuit overrides are applied
/// on top of the final defaults.
/// </para>
/// </remarks>
public sealed class TripswitchOptions
{
    private readonly Dictionary<string, Action<CircuitBreakerOptions>> _circuits = new(StringComparer.Ordinal);

    /// <summary>How many circuits the registry keeps (see <see cref="CircuitBreakerRegistryOptions.Capacity"/>).</summary>
    /// <value>Defaults to 10,000. Valid range: 1 to 10,000,000.</value>
    public int Capacity { get; set; } = new CircuitBreakerRegistryOptions().Capacity;

    /// <summary>The options every circuit starts from. Its <see cref="CircuitBreakerOptions.Name"/> is replaced by each circuit's key.</summary>
    /// <value>
    /// Defaults to <see cref="CircuitBreakerOptions"/>'s defaults, with the <see cref="System.TimeProvider"/> registered
    /// in the container (when there is one) unless code sets another. The time provider cannot change on a reload: set
    /// one by registering it in the container, or reuse one instance, rather than creating one in a configure delegate.
    /// </value>
    public CircuitBreakerOptions Defaults { get; set; } = new();

    /// <summary>
    /// The circuits whose opening makes the application unhealthy: the Tripswitch health check reports
    /// <c>Unhealthy</c> while one of them is open or isolated (other circuits that are not closed only make it
    /// <c>Degraded</c>).
    /// </summary>
    /// <value>Empty by default. Names are case-sensitive.</value>
    public ISet<string> Critical { get; } = new HashSet<string>(StringComparer.Ordinal);

    /// <summary>The circuits that have overrides, from code or configuration.</summary>
    public IReadOnlyCollection<string> ConfiguredCircuits => _circuits.Keys;

    /// <summary>Problems found while reading configuration (unknown keys, values that don't convert); reported by validation.</summary>
    internal List<string> ConfigurationErrors { get; } = [];

    /// <summary>
    /// Overrides options of one circuit: <paramref name="configure"/> runs on a copy of the final <see cref="Defaults"/>,
    /// after every override added before it for the same circuit.
    /// </summary>
    /// <param name="circuit">The circuit's key, for example <c>openai/gpt-4.1</c> (case-sensitive).</param>
    /// <param name="configure">Changes that circuit's options.</param>
    /// <returns>These options, for chaining.</returns>
    /// <exception cref="ArgumentException"><paramref name="circuit"/> is null, empty or white space.</exception>
    public TripswitchOptions Configure(string circuit, Action<CircuitBreakerOptions> configure)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(circuit);
        ArgumentNullException.ThrowIfNull(configure);
        _circuits[circuit] = _circuits.TryGetValue(circuit, out Action<CircuitBreakerOptions>? earlier) ? earlier + configure : configure;
        return this;
    }

    /// <summary>The effective options of <paramref name="circuit"/>: a copy of <see cref="Defaults"/> with its overrides applied.</summary>
    /// <param name="circuit">The circuit's key.</param>
    /// <returns>New options, named after <paramref name="circuit"/>; not validated.</returns>
    public CircuitBreakerOptions OptionsFor(string circuit)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(circuit);
        CircuitBreakerOptions options = (Defaults ?? new CircuitBreakerOptions()).Clone();
        if (_circuits.TryGetValue(circuit, out Action<CircuitBreakerOptions>? configure))
        {
            configure(options);
        }

        options.Name = circuit;
        return options;
    }

    /// <summary>The registry options these options describe.</summary>
    internal CircuitBreakerRegistryOptions ToRegistryOptions()
    {
        var registry = new CircuitBreakerRegistryOptions { Defaults = Defaults, Capacity = Capacity };
        foreach ((string circuit, Action<CircuitBreakerOptions> configure) in _circuits)
        {
            registry.Configure(circuit, configure);
        }

        return registry;
    }
}
