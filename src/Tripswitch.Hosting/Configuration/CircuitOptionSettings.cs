using System.Collections.Frozen;
using System.Globalization;

namespace Tripswitch.Hosting.Configuration;

/// <summary>
/// The options of <see cref="CircuitBreakerOptions"/> that configuration can set, each with its parser and setter:
/// written out, not discovered by reflection, so the reader works trimmed and ahead-of-time compiled. A test checks
/// that every public settable option is either here or deliberately code-only.
/// </summary>
internal static class CircuitOptionSettings
{
    private const string WholeNumber = "a whole number";
    private const string Number = "a number such as 0.5";
    private const string Duration = "a duration such as \"00:00:30\" (hh:mm:ss) or \"1.00:00:00\" (d.hh:mm:ss)";

    /// <summary>Options that configuration can't express; they can be set from code.</summary>
    public static readonly FrozenSet<string> CodeOnly = new[]
    {
        nameof(CircuitBreakerOptions.ShouldHandle),
        nameof(CircuitBreakerOptions.BreakDurationGenerator),
        nameof(CircuitBreakerOptions.RetryAfterExtractor),
        nameof(CircuitBreakerOptions.TimeProvider),
        nameof(CircuitBreakerOptions.MeterFactory), // AddTripswitch fills it from the container's IMeterFactory
    }.ToFrozenSet(StringComparer.OrdinalIgnoreCase);

    /// <summary>The settable options by name (configuration keys are case-insensitive).</summary>
    public static readonly FrozenDictionary<string, OptionSetting> ByName = new[]
    {
        Enum<CircuitBreakerMode>(nameof(CircuitBreakerOptions.Mode), static (o, v) => o.Mode = v),
        Enum<FailureRule>(nameof(CircuitBreakerOptions.Rule), static (o, v) => o.Rule = v),
        Int(nameof(CircuitBreakerOptions.FailureThreshold), static (o, v) => o.FailureThreshold = v),
        Double(nameof(CircuitBreakerOptions.FailureRatio), static (o, v) => o.FailureRatio = v),
        Int(nameof(CircuitBreakerOptions.MinimumThroughput), static (o, v) => o.MinimumThroughput = v),
        Int(nameof(CircuitBreakerOptions.WindowSize), static (o, v) => o.WindowSize = v),
        TimeSpan(nameof(CircuitBreakerOptions.SamplingDuration), static (o, v) => o.SamplingDuration = v),
        OptionalTimeSpan(nameof(CircuitBreakerOptions.SlowCallThreshold), static (o, v) => o.SlowCallThreshold = v),
        OptionalDouble(nameof(CircuitBreakerOptions.SlowCallRatio), static (o, v) => o.SlowCallRatio = v),
        TimeSpan(nameof(CircuitBreakerOptions.RecoveryTimeout), static (o, v) => o.RecoveryTimeout = v),
        Double(nameof(CircuitBreakerOptions.RecoveryBackoffMultiplier), static (o, v) => o.RecoveryBackoffMultiplier = v),
        Double(nameof(CircuitBreakerOptions.RecoveryJitter), static (o, v) => o.RecoveryJitter = v),
        OptionalTimeSpan(nameof(CircuitBreakerOptions.MaxRecoveryTimeout), static (o, v) => o.MaxRecoveryTimeout = v),
        Int(nameof(CircuitBreakerOptions.SuccessThreshold), static (o, v) => o.SuccessThreshold = v),
        Int(nameof(CircuitBreakerOptions.HalfOpenMaxCalls), static (o, v) => o.HalfOpenMaxCalls = v),
        TimeSpan(nameof(CircuitBreakerOptions.HalfOpenProbeTimeout), static (o, v) => o.HalfOpenProbeTimeout = v),
        new OptionSetting(nameof(CircuitBreakerOptions.FallbackOnFailure), "true or false", Optional: false, static text => bool.TryParse(text, out bool v) ? v : null, Box<bool>(static (o, v) => o.FallbackOnFailure = v)),
    }.ToFrozenDictionary(static s => s.Name, StringComparer.OrdinalIgnoreCase);

    /// <summary>The names of the settable options, sorted, for messages.</summary>
    public static readonly string[] Names = [.. ByName.Values.Select(static s => s.Name).Order(StringComparer.Ordinal)];

    /// <summary>Parses an integer as configuration binding does (culture-invariant).</summary>
    public static int? ParseInt(string text) => int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) ? v : null;

    private static OptionSetting Int(string name, Action<CircuitBreakerOptions, int> set)
        => new(name, WholeNumber, Optional: false, static text => ParseInt(text), Box(set));

    private static OptionSetting Double(string name, Action<CircuitBreakerOptions, double> set)
        => new(name, Number, Optional: false, static text => ParseDouble(text), Box(set));

    private static OptionSetting OptionalDouble(string name, Action<CircuitBreakerOptions, double?> set)
        => new(name, Number, Optional: true, static text => ParseDouble(text), Box(set));

    private static OptionSetting TimeSpan(string name, Action<CircuitBreakerOptions, TimeSpan> set)
        => new(name, Duration, Optional: false, static text => ParseTimeSpan(text), Box(set));

    private static OptionSetting OptionalTimeSpan(string name, Action<CircuitBreakerOptions, TimeSpan?> set)
        => new(name, Duration, Optional: true, static text => ParseTimeSpan(text), Box(set));

    private static OptionSetting Enum<TEnum>(string name, Action<CircuitBreakerOptions, TEnum> set)
        where TEnum : struct, Enum
        => new(
            name,
            $"one of {string.Join(", ", System.Enum.GetNames<TEnum>())}",
            Optional: false,
            static text => System.Enum.TryParse(text, ignoreCase: true, out TEnum v) ? v : null,
            Box(set));

    private static double? ParseDouble(string text)
        => double.TryParse(text, NumberStyles.Float | NumberStyles.AllowThousands, CultureInfo.InvariantCulture, out double v) ? v : null;

    private static TimeSpan? ParseTimeSpan(string text)
        => System.TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out TimeSpan v) ? v : null;

    private static Action<CircuitBreakerOptions, object?> Box<T>(Action<CircuitBreakerOptions, T> set)
        => (options, value) => set(options, (T)value!);
}

/// <summary>One option configuration can set.</summary>
/// <param name="Name">The option's name.</param>
/// <param name="Expected">What a valid value looks like, for messages ("a whole number").</param>
/// <param name="Optional">Whether the option is nullable, so an empty value clears it.</param>
/// <param name="Parse">Parses a value culture-invariantly; <see langword="null"/> when it doesn't parse.</param>
/// <param name="Set">Sets a parsed value (or <see langword="null"/> for an optional option) on options.</param>
internal sealed record OptionSetting(
    string Name,
    string Expected,
    bool Optional,
    Func<string, object?> Parse,
    Action<CircuitBreakerOptions, object?> Set);
