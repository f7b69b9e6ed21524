using Microsoft.Extensions.Configuration;

namespace Tripswitch.Hosting.Configuration;

/// <summary>
/// Reads the options of one circuit (or the defaults) from a configuration section, strictly: every key must be an
/// option that configuration can set (<see cref="CircuitOptionSettings"/>), and every value must parse. Only the keys
/// present are applied, so a circuit's section overrides just what it names. No reflection: safe to trim and AOT-compile.
/// </summary>
internal static class CircuitOptionsReader
{
    /// <summary>Reads <paramref name="section"/>; problems go to <paramref name="errors"/>, each naming <paramref name="owner"/> and the key.</summary>
    /// <param name="section">The section whose children are option names.</param>
    /// <param name="owner">Who the options belong to, for messages: <c>Circuit 'openai/gpt-4.1'</c> or <c>Tripswitch defaults</c>.</param>
    /// <param name="errors">Where problems are added.</param>
    /// <returns>The values read, to apply on top of other options.</returns>
    public static OptionsOverlay Read(IConfigurationSection section, string owner, List<string> errors)
    {
        var values = new List<OptionsOverlay.Value>();
        foreach (IConfigurationSection child in section.GetChildren())
        {
            if (!CircuitOptionSettings.ByName.TryGetValue(child.Key, out OptionSetting? setting))
            {
                errors.Add(UnknownOption(child, owner));
                continue;
            }

            if (TryParse(child, setting, owner, errors, out object? value))
            {
                values.Add(new(setting, value));
            }
        }

        return new OptionsOverlay(values);
    }

    private static string UnknownOption(IConfigurationSection child, string owner)
    {
        if (CircuitOptionSettings.CodeOnly.Contains(child.Key))
        {
            return $"{owner}: '{child.Path}' cannot be set from configuration; set {nameof(CircuitBreakerOptions)}.{child.Key} from code (AddTripswitch(options => ...)).";
        }

        if (string.Equals(child.Key, nameof(CircuitBreakerOptions.Name), StringComparison.OrdinalIgnoreCase))
        {
            return $"{owner}: '{child.Path}' cannot be set; a circuit is named after its key.";
        }

        var unknown = new List<OptionError>(1);
        OptionChecks.CheckKnownOption(unknown, nameof(CircuitBreakerOptions), child.Key, child.Path, CircuitOptionSettings.Names);
        return $"{owner}: {unknown[0].Message}";
    }

    private static bool TryParse(IConfigurationSection child, OptionSetting setting, string owner, List<string> errors, out object? value)
    {
        value = null;
        string option = $"{nameof(CircuitBreakerOptions)}.{setting.Name}";
        if (child.Value is null && child.GetChildren().Any())
        {
            errors.Add($"{owner}: {option} (at '{child.Path}') must be a single value, not a section.");
            return false;
        }

        if (string.IsNullOrEmpty(child.Value))
        {
            if (setting.Optional)
            {
                return true; // an empty value clears an optional option (for example a slow-call threshold the defaults set)
            }

            errors.Add($"{owner}: {option} (at '{child.Path}') needs a value.");
            return false;
        }

        value = setting.Parse(child.Value.Trim());
        if (value is null)
        {
            errors.Add($"{owner}: {option} (at '{child.Path}') must be {setting.Expected}; '{child.Value}' is not.");
            return false;
        }

        return true;
    }
}

/// <summary>Option values read from configuration, applied on top of other options; equal when the same values were read.</summary>
internal sealed class OptionsOverlay(IReadOnlyList<OptionsOverlay.Value> values) : IEquatable<OptionsOverlay>
{
    /// <summary>Sets every value read on <paramref name="options"/>.</summary>
    public void ApplyTo(CircuitBreakerOptions options)
    {
        foreach (Value value in values)
        {
            value.Setting.Set(options, value.Parsed);
        }
    }

    /// <inheritdoc/>
    public bool Equals(OptionsOverlay? other) => other is not null && values.SequenceEqual(other.Values);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as OptionsOverlay);

    /// <inheritdoc/>
    public override int GetHashCode() => values.Count;

    private IReadOnlyList<Value> Values => values;

    /// <summary>One option read: which, and its parsed value (<see langword="null"/> clears an optional option).</summary>
    internal readonly record struct Value(OptionSetting Setting, object? Parsed);
}
