using Microsoft.Extensions.Options;

namespace Tripswitch.Http;

/// <summary>Validates a client's handler options when the host starts, with the options' own validation routine.</summary>
internal sealed class CircuitBreakerHandlerOptionsValidator : IValidateOptions<CircuitBreakerHandlerOptions>
{
    public ValidateOptionsResult Validate(string? name, CircuitBreakerHandlerOptions options)
    {
        List<OptionError> errors = [.. options.ConfigurationErrors, .. options.GetValidationErrors()];
        return errors.Count == 0
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(errors.Select(e => $"HttpClient '{name}': {e.Message}"));
    }
}
