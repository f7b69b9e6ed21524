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
