using System.Collections.Frozen;
using System.ComponentModel;
using System.Reflection;
using Microsoft.Extensions.Configuration;

namespace Tripswitch.Hosting.Configuration;

/// <summary>
/// Reads the options of one circuit (or the defaults) from a configuration section, strictly: every key must be an
/// option that configuration can set, and every value must convert. Only the keys present are applied, so a circuit's
/// section overrides just what it names.
/// </summary>
internal static class CircuitOptionsReader
{
    /// <summary>Options that configuration can't express; they can be set from code.</summary>
    private static readonly FrozenSet<string> s_codeOnly = new[]
    {
        nameof(CircuitBreakerOptions.ShouldHandle),
        nameof(CircuitBreakerOptions.BreakDurationGenerator),
        nameof(CircuitBreakerOptions.RetryAfterExtractor),
        nameof(CircuitBreakerOptions.TimeProvider),
    }.ToFrozenSet(StringComparer.OrdinalIgnoreCase);

    /// <summary>The options configuration can set, by name (configuration keys are case-insensitive).</summary>
    private static readonly FrozenDictionary<string, PropertyInfo> s_settable = typeof(CircuitBreakerOptions)
        .GetProperties(BindingFlags.Public | BindingFlags.Instance)
        .Where(p => p.SetMethod is { IsPublic: true }
            && p.Name != nameof(CircuitBreakerOptions.Name)
            && !s_codeOnly.Contains(p.Name)
            && !typeof(Delegate).IsAssignableFrom(p.PropertyType))
        .ToFrozenDictionary(p => p.Name, StringComparer.OrdinalIgnoreCase);

    /// <summary>The names of the options configuration can set, for messages.</summary>
    public static IEnumerable<string> SettableNames => s_settable.Values.Select(p => p.Name).Order(StringComparer.Ordinal);

    /// <summary>Reads <paramref name="section"/>; problems go to <paramref name="errors"/>, each naming <paramref name="owner"/> and the key.</summary>
    /// <param name="section">The section whose children are option names.</param>
    /// <param name="owner">Who the options belong to, for messages: <c>Circuit 'openai/gpt-4.1'</c> or <c>Tripswitch defaults</c>.</param>
    /// <param name="errors">Where problems are added.</param>
    /// <returns>The values read, to apply on top of other options.</returns>
    public static OptionsOverlay Read(IConfigurationSection section, string owner, List<string> errors)
    {
        var values = new List<KeyValuePair<PropertyInfo, object?>>();
        foreach (IConfigurationSection child in section.GetChildren())
        {
            if (!s_settable.TryGetValue(child.Key, out PropertyInfo? property))
            {
                errors.Add(UnknownOption(child, owner));
                continue;
            }

            if (TryConvert(child, property, owner, errors, out object? value))
            {
                values.Add(new(property, value));
            }
        }

        return new OptionsOverlay(values);
    }

    private static string UnknownOption(IConfigurationSection child, string owner)
    {
        if (s_codeOnly.Contains(child.Key))
        {
            return $"{owner}: '{child.Path}' cannot be set from configuration; set {nameof(CircuitBreakerOptions)}.{child.Key} from code (AddTripswitch(options => ...)).";
        }

        if (string.Equals(child.Key, nameof(CircuitBreakerOptions.Name), StringComparison.OrdinalIgnoreCase))
        {
            return $"{owner}: '{child.Path}' cannot be set; a circuit is named after its key.";
        }

        string? suggestion = Suggest(child.Key, s_settable.Values.Select(p => p.Name));
        string hint = suggestion is null ? string.Empty : $" Did you mean '{suggestion}'?";
        return $"{owner}: '{child.Key}' (at '{child.Path}') is not an option of {nameof(CircuitBreakerOptions)}.{hint} Valid options: {string.Join(", ", SettableNames)}.";
    }

    private static bool TryConvert(IConfigurationSection child, PropertyInfo property, string owner, List<string> errors, out object? value)
    {
        value = null;
        string option = $"{nameof(CircuitBreakerOptions)}.{property.Name}";
        Type? underlying = Nullable.GetUnderlyingType(property.PropertyType);
        if (child.Value is null && child.GetChildren().Any())
        {
            errors.Add($"{owner}: {option} (at '{child.Path}') must be a single value, not a section.");
            return false;
        }

        if (string.IsNullOrEmpty(child.Value))
        {
            if (underlying is not null)
            {
                return true; // an empty value clears an optional option (for example a slow-call threshold the defaults set)
            }

            errors.Add($"{owner}: {option} (at '{child.Path}') needs a value.");
            return false;
        }

        Type type = underlying ?? property.PropertyType;
        try
        {
            value = TypeDescriptor.GetConverter(type).ConvertFromInvariantString(child.Value);
            return true;
        }
#pragma warning disable CA1031 // Converters throw several exception types; each becomes a message naming the option.
        catch (Exception ex) when (ex is FormatException or ArgumentException or NotSupportedException or OverflowException or InvalidCastException)
#pragma warning restore CA1031
        {
            errors.Add($"{owner}: {option} (at '{child.Path}') must be {Expected(type)}; '{child.Value}' is not.");
            return false;
        }
    }

    private static string Expected(Type type)
    {
        if (type.IsEnum)
        {
            return $"one of {string.Join(", ", Enum.GetNames(type))}";
        }

        if (type == typeof(TimeSpan))
        {
            return "a duration such as \"00:00:30\" (hh:mm:ss) or \"1.00:00:00\" (d.hh:mm:ss)";
        }

        if (type == typeof(int))
        {
            return "a whole number";
        }

        if (type == typeof(double))
        {
            return "a number such as 0.5";
        }

        return type == typeof(bool) ? "true or false" : $"a {type.Name}";
    }

    /// <summary>The closest name within two edits, for "did you mean".</summary>
    internal static string? Suggest(string key, IEnumerable<string> names)
    {
        string? best = null;
        int bestDistance = 3;
        foreach (string name in names)
        {
            int distance = Distance(key.ToUpperInvariant(), name.ToUpperInvariant());
            if (distance < bestDistance)
            {
                best = name;
                bestDistance = distance;
            }
        }

        return best;
    }

    /// <summary>Levenshtein distance (names are short).</summary>
    private static int Distance(string a, string b)
    {
        int[] previous = new int[b.Length + 1];
        int[] current = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }

        for (int i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
                current[j] = Math.Min(Math.Min(previous[j] + 1, current[j - 1] + 1), substitution);
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }
}

/// <summary>Option values read from configuration, applied on top of other options.</summary>
internal sealed class OptionsOverlay(IReadOnlyList<KeyValuePair<PropertyInfo, object?>> values)
{
    /// <summary>Sets every value read on <paramref name="options"/>.</summary>
    public void ApplyTo(CircuitBreakerOptions options)
    {
        foreach ((PropertyInfo property, object? value) in values)
        {
            property.SetValue(options, value);
        }
    }
}
