namespace Tripswitch.Hosting.Configuration;

/// <summary>
/// What one configuration section says, parsed: compared with the previous reading (structurally, value by value) to
/// tell whether a configuration reload changed anything of Tripswitch's, and applied to <see cref="TripswitchOptions"/>.
/// </summary>
internal sealed class TripswitchSettings : IEquatable<TripswitchSettings>
{
    /// <summary>The registry's capacity, when the section sets it.</summary>
    public int? Capacity { get; set; }

    /// <summary>The defaults' values, when the section has <c>Defaults</c>.</summary>
    public OptionsOverlay? Defaults { get; set; }

    /// <summary>Each circuit's values, in the section's order.</summary>
    public List<(string Key, OptionsOverlay Overlay)> Circuits { get; } = [];

    /// <summary>The critical circuits named.</summary>
    public List<string> Critical { get; } = [];

    /// <summary>Problems found while reading; validation reports them.</summary>
    public List<string> Errors { get; } = [];

    /// <summary>Applies these settings on top of <paramref name="options"/>.</summary>
    public void ApplyTo(TripswitchOptions options)
    {
        if (Capacity is { } capacity)
        {
            options.Capacity = capacity;
        }

        if (Defaults is not null)
        {
            options.Defaults ??= new CircuitBreakerOptions();
            Defaults.ApplyTo(options.Defaults);
        }

        foreach ((string circuit, OptionsOverlay overlay) in Circuits)
        {
            options.Configure(circuit, overlay.ApplyTo);
        }

        foreach (string critical in Critical)
        {
            options.Critical.Add(critical);
        }

        options.ConfigurationErrors.AddRange(Errors);
    }

    /// <inheritdoc/>
    public bool Equals(TripswitchSettings? other)
        => other is not null
            && Capacity == other.Capacity
            && Equals(Defaults, other.Defaults)
            && Circuits.SequenceEqual(other.Circuits)
            && Critical.SequenceEqual(other.Critical, StringComparer.Ordinal)
            && Errors.SequenceEqual(other.Errors, StringComparer.Ordinal);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as TripswitchSettings);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Capacity, Circuits.Count, Critical.Count, Errors.Count);
}
