namespace Tripswitch;

/// <summary>
/// The checks every Tripswitch options type validates with, public so integrations and your own options report errors
/// the same way: each adds an <see cref="OptionError"/> to a list when the value is invalid and says whether it was valid.
/// </summary>
/// <example>
/// <code>
/// var errors = new List&lt;OptionError&gt;();
/// OptionChecks.CheckRange(errors, nameof(MyOptions), nameof(MyOptions.Interval), options.Interval, TimeSpan.FromMilliseconds(1), TimeSpan.FromMinutes(1));
/// OptionChecks.ThrowIfAny(errors);
/// </code>
/// </example>
public static class OptionChecks
{
    /// <summary>Checks that <paramref name="value"/> is between <paramref name="min"/> and <paramref name="max"/>, both included (NaN is out of range).</summary>
    /// <typeparam name="T">The option's type, for example <see cref="int"/>, <see cref="double"/> or <see cref="TimeSpan"/>.</typeparam>
    /// <param name="errors">Where an error is added.</param>
    /// <param name="owner">The options type, for example <c>nameof(MyOptions)</c>.</param>
    /// <param name="option">The option's name.</param>
    /// <param name="value">The value to check.</param>
    /// <param name="min">The smallest valid value.</param>
    /// <param name="max">The largest valid value.</param>
    /// <param name="minName">When the lower bound is another option, its name (the message then reads <c>between RecoveryTimeout (00:01:00) and …</c>).</param>
    /// <returns><see langword="true"/> when the value is valid.</returns>
    public static bool CheckRange<T>(ICollection<OptionError> errors, string owner, string option, T value, T min, T max, string? minName = null)
        where T : IComparable<T>
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (value.CompareTo(min) >= 0 && value.CompareTo(max) <= 0)
        {
            return true;
        }

        string lower = minName is null ? OptionError.Format(min) : $"{minName} ({OptionError.Format(min)})";
        errors.Add(new OptionError(OptionErrorKind.OutOfRange, owner, option, value, $"between {lower} and {OptionError.Format(max)}"));
        return false;
    }

    /// <summary>Checks that <paramref name="value"/> is one of <typeparamref name="TEnum"/>'s named values.</summary>
    /// <typeparam name="TEnum">The option's enum type.</typeparam>
    /// <param name="errors">Where an error is added.</param>
    /// <param name="owner">The options type.</param>
    /// <param name="option">The option's name.</param>
    /// <param name="value">The value to check.</param>
    /// <returns><see langword="true"/> when the value is valid.</returns>
    public static bool CheckDefined<TEnum>(ICollection<OptionError> errors, string owner, string option, TEnum value)
        where TEnum : struct, Enum
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (Enum.IsDefined(value))
        {
            return true;
        }

        errors.Add(new OptionError(OptionErrorKind.OutOfRange, owner, option, value, $"one of {string.Join(", ", Enum.GetNames<TEnum>())}"));
        return false;
    }

    /// <summary>Checks that <paramref name="value"/> is neither <see langword="null"/>, empty nor white space.</summary>
    /// <param name="errors">Where an error is added.</param>
    /// <param name="owner">The options type.</param>
    /// <param name="option">The option's name.</param>
    /// <param name="value">The value to check.</param>
    /// <returns><see langword="true"/> when the value is valid.</returns>
    public static bool CheckNotEmpty(ICollection<OptionError> errors, string owner, string option, string? value)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (!string.IsNullOrWhiteSpace(value))
        {
            return true;
        }

        errors.Add(new OptionError(OptionErrorKind.Invalid, owner, option, value, "a non-empty name"));
        return false;
    }

    /// <summary>Checks that a required <paramref name="value"/> is not <see langword="null"/>.</summary>
    /// <param name="errors">Where an error is added.</param>
    /// <param name="owner">The options type.</param>
    /// <param name="option">The option's name.</param>
    /// <param name="value">The value to check.</param>
    /// <param name="advice">What to set instead, appended to the message (for example <c>use TimeProvider.System for real time.</c>).</param>
    /// <returns><see langword="true"/> when the value is set.</returns>
    public static bool CheckNotNull(ICollection<OptionError> errors, string owner, string option, object? value, string? advice = null)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (value is not null)
        {
            return true;
        }

        string message = advice is null ? $"{owner}.{option} must not be null." : $"{owner}.{option} must not be null; {advice}";
        errors.Add(new OptionError(OptionErrorKind.Missing, owner, option, null, "not null", message));
        return false;
    }

    /// <summary>
    /// Checks that a key read from configuration names one of <paramref name="validOptions"/> (ignoring case); when it
    /// doesn't (a typo), the error says so, suggests the closest valid name ("Did you mean 'Timeout'?") and lists them all.
    /// Every Tripswitch configuration reader reports unknown keys with this message.
    /// </summary>
    /// <param name="errors">Where an error is added.</param>
    /// <param name="owner">The options type, for example <c>CircuitBreakerHandlerOptions</c>.</param>
    /// <param name="key">The key found in configuration.</param>
    /// <param name="path">The key's full configuration path, for example <c>Http:billing:Timout</c>.</param>
    /// <param name="validOptions">The names configuration can set.</param>
    /// <returns><see langword="true"/> when the key is valid.</returns>
    /// <example><c>'Timout' (at 'Http:billing:Timout') is not an option of CircuitBreakerHandlerOptions. Did you mean 'Timeout'? Valid options: Timeout, ReturnServiceUnavailableWhenOpen.</c></example>
    public static bool CheckKnownOption(ICollection<OptionError> errors, string owner, string key, string path, IReadOnlyCollection<string> validOptions)
    {
        ArgumentNullException.ThrowIfNull(errors);
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(validOptions);
        foreach (string option in validOptions)
        {
            if (string.Equals(option, key, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        string? suggestion = ClosestName(key, validOptions);
        string hint = suggestion is null ? string.Empty : $" Did you mean '{suggestion}'?";
        string valid = string.Join(", ", validOptions);
        errors.Add(new OptionError(OptionErrorKind.Invalid, owner, string.IsNullOrWhiteSpace(key) ? "(empty key)" : key, path, $"one of {valid}", $"'{key}' (at '{path}') is not an option of {owner}.{hint} Valid options: {valid}."));
        return false;
    }

    /// <summary>The name of <paramref name="candidates"/> closest to <paramref name="name"/> within two edits (ignoring case), for "did you mean".</summary>
    /// <param name="name">The name as written, for example a configuration key with a typo.</param>
    /// <param name="candidates">The valid names.</param>
    /// <returns>The closest valid name, or <see langword="null"/> when none is within two edits.</returns>
    public static string? ClosestName(string name, IEnumerable<string> candidates)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(candidates);
        string? best = null;
        int bestDistance = 3;
        foreach (string candidate in candidates)
        {
            int distance = Distance(name.ToUpperInvariant(), candidate.ToUpperInvariant());
            if (distance < bestDistance)
            {
                best = candidate;
                bestDistance = distance;
            }
        }

        return best;
    }

    /// <summary>Levenshtein distance (option names are short).</summary>
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

    /// <summary>Throws the first error's exception (see <see cref="OptionError.ToException"/>) when there is one.</summary>
    /// <param name="errors">The errors of one options object.</param>
    /// <exception cref="ArgumentException">There is an error; the message names the option, its value and the valid range.</exception>
    public static void ThrowIfAny(IReadOnlyList<OptionError> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (errors.Count > 0)
        {
            throw errors[0].ToException();
        }
    }

    /// <summary>Checks a ratio: greater than 0, at most 1.</summary>
    internal static bool CheckRatio(ICollection<OptionError> errors, string owner, string option, double value)
    {
        if (value > 0 && value <= 1)
        {
            return true; // NaN fails both comparisons
        }

        errors.Add(new OptionError(OptionErrorKind.OutOfRange, owner, option, value, "greater than 0 and at most 1"));
        return false;
    }
}
