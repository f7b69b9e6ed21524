using Microsoft.Extensions.Options;

namespace Tripswitch.Hosting.Configuration;

/// <summary>
/// Validates <see cref="TripswitchOptions"/>: the problems found while reading configuration, then the core's own
/// <see cref="CircuitBreakerRegistryOptions.GetValidationErrors"/> (each naming the circuit, the option, its value and
/// its valid range). Every problem is reported, not just the first.
/// </summary>
/// <remarks>
/// The rules are the core's, read as data, so there is no [OptionsValidator] source generator here: data annotations
/// would duplicate the ranges and drift from them.
/// </remarks>
internal sealed class TripswitchOptionsValidator : IValidateOptions<TripswitchOptions>
{
    /// <inheritdoc/>
    public ValidateOptionsResult Validate(string? name, TripswitchOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>(options.ConfigurationErrors);
        errors.AddRange(options.ToRegistryOptions().GetValidationErrors().Select(static e => e.Message));
        foreach (string critical in options.Critical)
        {
            if (string.IsNullOrWhiteSpace(critical))
            {
                errors.Add($"{nameof(TripswitchOptions)}.{nameof(TripswitchOptions.Critical)} must contain circuit names; it contains an empty one.");
            }
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
