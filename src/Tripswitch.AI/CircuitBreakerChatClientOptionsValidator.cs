using Microsoft.Extensions.Options;

namespace Tripswitch.AI;

/// <summary>Validates named chat client options when the host starts, with the options' own validation routine.</summary>
internal sealed class CircuitBreakerChatClientOptionsValidator : IValidateOptions<CircuitBreakerChatClientOptions>
{
    public ValidateOptionsResult Validate(string? name, CircuitBreakerChatClientOptions options)
    {
        List<OptionError> errors = [.. options.ConfigurationErrors, .. options.GetValidationErrors()];
        return errors.Count == 0
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(errors.Select(e => $"Chat client options '{name}': {e.Message}"));
    }
}
