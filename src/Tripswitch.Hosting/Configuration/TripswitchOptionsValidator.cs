using Microsoft.Extensions.Options;

namespace Tripswitch.Hosting.Configuration;

/// <summary>
/// Validates <see cref="TripswitchOptions"/> with the core's own rules (each message names the circuit, the option and
/// its valid range), after the problems found while reading configuration. Every problem is reported, not just the first.
/// </summary>
/// <remarks>
/// The rules are the core's <see cref="CircuitBreakerOptions"/> validation, so there is no [OptionsValidator] source
/// generator here: data annotations would duplicate the ranges and drift from them.
/// </remarks>
internal sealed class TripswitchOptionsValidator : IValidateOptions<TripswitchOptions>
{
    /// <summary>How the defaults are named in messages, as the registry names them.</summary>
    internal const string DefaultsName = "(defaults)";

    /// <inheritdoc/>
    public ValidateOptionsResult Validate(string? name, TripswitchOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>(options.ConfigurationErrors);
        Check(errors, () => new CircuitBreakerRegistryOptions { Capacity = options.Capacity }.ValidateCapacity());
        if (options.Defaults is null)
        {
            errors.Add($"{nameof(TripswitchOptions)}.{nameof(TripswitchOptions.Defaults)} must not be null.");
            return ValidateOptionsResult.Fail(errors);
        }

        string? defaultsError = Error(() => options.Defaults.Clone().Validate(DefaultsName));
        if (defaultsError is not null)
        {
            errors.Add(defaultsError);
        }

        foreach (string circuit in options.ConfiguredCircuits)
        {
            string? error = Error(() => options.OptionsFor(circuit).Validate(circuit));

            // With invalid defaults every circuit would repeat their message; report only the circuits' own problems.
            if (error is not null && (defaultsError is null || WithoutPrefix(error, circuit) != WithoutPrefix(defaultsError, DefaultsName)))
            {
                errors.Add(error);
            }
        }

        foreach (string critical in options.Critical)
        {
            if (string.IsNullOrWhiteSpace(critical))
            {
                errors.Add($"{nameof(TripswitchOptions)}.{nameof(TripswitchOptions.Critical)} must contain circuit names; it contains an empty one.");
            }
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void Check(List<string> errors, Action validate)
    {
        if (Error(validate) is { } error)
        {
            errors.Add(error);
        }
    }

    private static string? Error(Action validate)
    {
        try
        {
            validate();
            return null;
        }
        catch (ArgumentException ex)
        {
            return FirstLine(ex.Message);
        }
    }

    private static string WithoutPrefix(string message, string circuit)
    {
        string prefix = $"Circuit '{circuit}': ";
        return message.StartsWith(prefix, StringComparison.Ordinal) ? message[prefix.Length..] : message;
    }

    /// <summary>An <see cref="ArgumentException"/>'s message without the "(Parameter 'X')" and "Actual value was" lines the runtime appends.</summary>
    internal static string FirstLine(string message)
    {
        int newLine = message.IndexOf('\n', StringComparison.Ordinal);
        string line = newLine < 0 ? message : message[..newLine].TrimEnd('\r');
        int parameter = line.LastIndexOf(" (Parameter '", StringComparison.Ordinal);
        return parameter > 0 ? line[..parameter] : line;
    }
}
