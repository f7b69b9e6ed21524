using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Tripswitch.Hosting.Configuration;

/// <summary>
/// Applies one configuration section to <see cref="TripswitchOptions"/>, strictly: an unknown key at the root, under
/// <c>Defaults</c> or under a circuit, or a value that doesn't parse, becomes an error that validation reports (so
/// start-up fails, and a reload is rejected). The section is read afresh each time options are built, so a reload
/// sees the new values. Its reload token drives the registry's reconfiguration.
/// </summary>
internal sealed class TripswitchConfigurationSource(IConfiguration configuration) : IConfigureOptions<TripswitchOptions>
{
    internal const string CapacityKey = nameof(TripswitchOptions.Capacity);
    internal const string DefaultsKey = nameof(TripswitchOptions.Defaults);
    internal const string CircuitsKey = "Circuits";
    internal const string CriticalKey = nameof(TripswitchOptions.Critical);

    private static readonly string[] s_rootKeys = [CapacityKey, DefaultsKey, CircuitsKey, CriticalKey];

    /// <summary>The configuration this source reads; its reload token signals changes.</summary>
    public IConfiguration Configuration { get; } = configuration ?? throw new ArgumentNullException(nameof(configuration));

    /// <inheritdoc/>
    public void Configure(TripswitchOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Read().ApplyTo(options);
    }

    /// <summary>Reads the section into parsed settings, comparable with an earlier reading to tell whether it changed.</summary>
    public TripswitchSettings Read()
    {
        var settings = new TripswitchSettings();
        string root = Configuration is IConfigurationSection section ? section.Path : "(configuration root)";
        foreach (IConfigurationSection child in Configuration.GetChildren())
        {
            switch (Root(child.Key))
            {
                case CapacityKey:
                    ReadCapacity(child, settings);
                    break;
                case DefaultsKey:
                    settings.Defaults = CircuitOptionsReader.Read(child, "Tripswitch defaults", settings.Errors);
                    break;
                case CircuitsKey:
                    ReadCircuits(child, settings);
                    break;
                case CriticalKey:
                    ReadCritical(child, settings);
                    break;
                default:
                    string? suggestion = OptionChecks.ClosestName(child.Key, s_rootKeys);
                    string hint = suggestion is null ? string.Empty : $" Did you mean '{suggestion}'?";
                    settings.Errors.Add($"Tripswitch configuration: '{child.Key}' (at '{child.Path}') is not a Tripswitch setting.{hint} Valid settings under '{root}': {string.Join(", ", s_rootKeys)}.");
                    break;
            }
        }

        return settings;
    }

    private static string? Root(string key)
        => Array.Find(s_rootKeys, k => string.Equals(k, key, StringComparison.OrdinalIgnoreCase));

    private static void ReadCapacity(IConfigurationSection child, TripswitchSettings settings)
    {
        if (child.Value is { Length: > 0 } text && CircuitOptionSettings.ParseInt(text.Trim()) is { } capacity)
        {
            settings.Capacity = capacity;
            return;
        }

        settings.Errors.Add(string.Create(CultureInfo.InvariantCulture, $"Tripswitch configuration: {nameof(CircuitBreakerRegistryOptions)}.{nameof(TripswitchOptions.Capacity)} (at '{child.Path}') must be a whole number; '{child.Value}' is not."));
    }

    private static void ReadCircuits(IConfigurationSection circuits, TripswitchSettings settings)
    {
        foreach (IConfigurationSection circuit in circuits.GetChildren())
        {
            string owner = $"Circuit '{circuit.Key}'";
            if (circuit.Value is { Length: > 0 })
            {
                settings.Errors.Add($"{owner}: '{circuit.Path}' must be a section of options such as {{ \"FailureThreshold\": 3 }}, not a value.");
                continue;
            }

            var circuitErrors = new List<string>();
            OptionsOverlay overlay = CircuitOptionsReader.Read(circuit, owner, circuitErrors);
            if (circuitErrors.Count > 0 && circuit.GetChildren().Any(c => c.Value is null && c.GetChildren().Any()))
            {
                // "a:b": { ... } arrives as circuit "a" with a section "b": ':' separates configuration paths.
                circuitErrors.Add($"{owner}: a circuit name given in configuration cannot contain ':' (the configuration path separator); configure such a circuit from code.");
            }

            settings.Errors.AddRange(circuitErrors);
            settings.Circuits.Add((circuit.Key, overlay));
        }
    }

    private static void ReadCritical(IConfigurationSection critical, TripswitchSettings settings)
    {
        if (critical.Value is { Length: > 0 } single)
        {
            settings.Critical.Add(single); // "Critical": "openai/gpt-4.1" (one name) also works
            return;
        }

        foreach (IConfigurationSection item in critical.GetChildren())
        {
            if (string.IsNullOrWhiteSpace(item.Value))
            {
                settings.Errors.Add($"Tripswitch configuration: every entry of '{critical.Path}' must be a circuit name; '{item.Path}' is {(item.GetChildren().Any() ? "a section" : "empty")}.");
                continue;
            }

            settings.Critical.Add(item.Value);
        }
    }
}
