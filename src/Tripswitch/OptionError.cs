using System.Globalization;

namespace Tripswitch;

/// <summary>
/// One invalid option, as data: which options type and option, the value it had, the valid range, and the message a
/// person reads. Every options type of Tripswitch reports its problems as a list of these (for example
/// <see cref="CircuitBreakerOptions.GetValidationErrors"/>); its <c>Validate()</c> throws <see cref="ToException"/> of
/// the first one, and configuration validation reports all of them.
/// </summary>
/// <remarks>Build errors for your own options with <see cref="OptionChecks"/>, so they read like Tripswitch's.</remarks>
public sealed record OptionError
{
    private readonly string? _text;

    /// <summary>Creates an error; its <see cref="Message"/> reads "<c>Owner.Option must be ValidRange; it was Value.</c>" unless <paramref name="message"/> is given.</summary>
    /// <param name="kind">What is wrong, which decides the exception <see cref="ToException"/> returns.</param>
    /// <param name="owner">The options type, for example <c>CircuitBreakerOptions</c>.</param>
    /// <param name="option">The option (property) name, for example <c>FailureThreshold</c>.</param>
    /// <param name="value">The invalid value.</param>
    /// <param name="validRange">What the value must be, completing "must be …", for example <c>between 1 and 1000000</c>.</param>
    /// <param name="message">The whole message, when the standard sentence doesn't fit; without the circuit prefix.</param>
    public OptionError(OptionErrorKind kind, string owner, string option, object? value, string validRange, string? message = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(owner);
        ArgumentException.ThrowIfNullOrWhiteSpace(option);
        ArgumentException.ThrowIfNullOrWhiteSpace(validRange);
        Kind = kind;
        Owner = owner;
        Option = option;
        Value = value;
        ValidRange = validRange;
        _text = message;
    }

    /// <summary>What is wrong: out of range, otherwise invalid, or missing.</summary>
    public OptionErrorKind Kind { get; }

    /// <summary>The options type, for example <c>CircuitBreakerOptions</c>.</summary>
    public string Owner { get; }

    /// <summary>The option's name, for example <c>FailureThreshold</c>; also the exception's <see cref="ArgumentException.ParamName"/>.</summary>
    public string Option { get; }

    /// <summary>The invalid value (<see langword="null"/> when it was missing).</summary>
    public object? Value { get; }

    /// <summary>What the value must be, completing "must be …": <c>between 1 and 1000000</c>, <c>greater than 0 and at most 1</c>, <c>one of …</c>.</summary>
    public string ValidRange { get; }

    /// <summary>The circuit whose options these are, when the error comes from a registry or configuration; it prefixes <see cref="Message"/>.</summary>
    /// <value>Defaults to <see langword="null"/>: a lone options object, no prefix.</value>
    public string? Circuit { get; init; }

    /// <summary>The message a person reads, naming the option, the valid range and the value, for example
    /// <c>Circuit 'openai/gpt-4.1': CircuitBreakerOptions.FailureThreshold must be between 1 and 1000000; it was 0.</c></summary>
    public string Message
    {
        get
        {
            string text = _text ?? $"{Owner}.{Option} must be {ValidRange}; it was {Format(Value)}.";
            return Circuit is null ? text : $"Circuit '{Circuit}': {text}";
        }
    }

    /// <summary>The exception <c>Validate()</c> throws for this error, whose parameter name is <see cref="Option"/>.</summary>
    /// <returns>
    /// An <see cref="ArgumentOutOfRangeException"/> (carrying <see cref="Value"/>) for <see cref="OptionErrorKind.OutOfRange"/>,
    /// an <see cref="ArgumentNullException"/> for <see cref="OptionErrorKind.Missing"/>, otherwise an <see cref="ArgumentException"/>.
    /// </returns>
#pragma warning disable CA2208 // The "parameter" named is the option, on purpose: it is what the user must fix.
    public ArgumentException ToException() => Kind switch
    {
        OptionErrorKind.OutOfRange => new ArgumentOutOfRangeException(Option, Value, Message),
        OptionErrorKind.Missing => new ArgumentNullException(Option, Message),
        _ => new ArgumentException(Message, Option),
    };
#pragma warning restore CA2208

    /// <summary>Returns <see cref="Message"/>.</summary>
    /// <returns>The message.</returns>
    public override string ToString() => Message;

    /// <summary>A value as messages show it: culture-invariant, strings quoted.</summary>
    /// <param name="value">The value.</param>
    /// <returns>The text.</returns>
    internal static string Format(object? value) => value switch
    {
        null => "null",
        string text => $"'{text}'",
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? string.Empty,
    };
}
