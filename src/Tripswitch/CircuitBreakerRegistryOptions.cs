namespace Tripswitch;

/// <summary>Options of a <see cref="CircuitBreakerRegistry"/>: the defaults every breaker starts from, per-key overrides and the capacity bound.</summary>
public sealed class CircuitBreakerRegistryOptions
{
    private readonly Dictionary<string, Action<CircuitBreakerOptions>> _overrides = new(StringComparer.Ordinal);

    /// <summary>The options each breaker starts from. Its <see cref="CircuitBreakerOptions.Name"/> is replaced by the breaker's key.</summary>
    /// <value>Defaults to <see cref="CircuitBreakerOptions"/>'s defaults.</value>
    public CircuitBreakerOptions Defaults { get; set; } = new();

    /// <summary>
    /// How many breakers the registry keeps. Past it, idle closed breakers are evicted, least recently used first.
    /// Open, half-open and isolated breakers and breakers with calls in flight are never evicted.
    /// </summary>
    /// <value>Defaults to 10,000. Valid range: 1 to 10,000,000.</value>
    public int Capacity { get; set; } = CircuitBreakerDefaults.RegistryCapacity;

    /// <summary>Overrides options for one key: <paramref name="configure"/> runs on a copy of <see cref="Defaults"/>.</summary>
    /// <param name="key">The circuit key, for example <c>openai/gpt-4.1</c>.</param>
    /// <param name="configure">Changes the options of that key's breaker.</param>
    /// <returns>These options, for chaining.</returns>
    public CircuitBreakerRegistryOptions Configure(string key, Action<CircuitBreakerOptions> configure)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(key);
        ArgumentNullException.ThrowIfNull(configure);
        _overrides[key] = _overrides.TryGetValue(key, out Action<CircuitBreakerOptions>? earlier) ? earlier + configure : configure;
        return this;
    }

    internal IReadOnlyDictionary<string, Action<CircuitBreakerOptions>> Overrides => _overrides;

    /// <summary>
    /// Every problem with these options, as data: the capacity, then the defaults (as circuit <c>(defaults)</c>), then each
    /// per-key override (as that circuit), leaving out an override's errors that only repeat the defaults' own.
    /// </summary>
    /// <returns>The errors; empty when the options are valid.</returns>
    /// <remarks>Runs each <see cref="Configure"/> delegate once, on a copy of <see cref="Defaults"/>.</remarks>
    public IReadOnlyList<OptionError> GetValidationErrors()
    {
        var errors = new List<OptionError>();
        _ = Resolve(errors);
        return errors;
    }

    /// <summary>The name the defaults have in messages.</summary>
    internal const string DefaultsName = "(defaults)";

    /// <summary>Builds the validated copies a registry runs with, adding every problem to <paramref name="errors"/>.</summary>
    /// <returns>The defaults and each key's options, or <see langword="null"/> when <see cref="Defaults"/> is null.</returns>
    internal (CircuitBreakerOptions Defaults, Dictionary<string, CircuitBreakerOptions> Overrides)? Resolve(List<OptionError> errors)
    {
        OptionChecks.CheckRange(errors, nameof(CircuitBreakerRegistryOptions), nameof(Capacity), Capacity, CircuitBreakerDefaults.MinRegistryCapacity, CircuitBreakerDefaults.MaxRegistryCapacity);
        if (!OptionChecks.CheckNotNull(errors, nameof(CircuitBreakerRegistryOptions), nameof(Defaults), Defaults))
        {
            return null;
        }

        CircuitBreakerOptions defaults = Defaults.Clone();
        OptionError[] defaultsErrors = [.. defaults.GetValidationErrors()];
        errors.AddRange(defaultsErrors.Select(static e => e with { Circuit = DefaultsName }));

        var overrides = new Dictionary<string, CircuitBreakerOptions>(StringComparer.Ordinal);
        foreach ((string key, Action<CircuitBreakerOptions> configure) in _overrides)
        {
            CircuitBreakerOptions circuit = defaults.Clone();
            configure(circuit);
            circuit.Name = key;

            // With invalid defaults every circuit would repeat their errors: report only each circuit's own.
            errors.AddRange(circuit.GetValidationErrors().Where(e => !defaultsErrors.Contains(e)).Select(e => e with { Circuit = key }));
            overrides[key] = circuit;
        }

        return (defaults, overrides);
    }
}
