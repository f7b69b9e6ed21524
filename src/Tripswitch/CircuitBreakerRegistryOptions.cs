using System.Globalization;

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

    internal void ValidateCapacity()
    {
        if (Capacity < CircuitBreakerDefaults.MinRegistryCapacity || Capacity > CircuitBreakerDefaults.MaxRegistryCapacity)
        {
            throw new ArgumentOutOfRangeException(
                nameof(Capacity),
                Capacity,
                string.Create(CultureInfo.InvariantCulture, $"{nameof(CircuitBreakerRegistryOptions)}.{nameof(Capacity)} must be between {CircuitBreakerDefaults.MinRegistryCapacity} and {CircuitBreakerDefaults.MaxRegistryCapacity}; it was {Capacity}."));
        }
    }
}
