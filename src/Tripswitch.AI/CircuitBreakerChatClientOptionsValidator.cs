using Microsoft.Extensions.Options;

namespace Tripswitch.AI;

/// <summary>Validates named chat client options when the host starts, with the options' own rule.</summary>
internal sealed class CircuitBreakerChatClientOptionsValidator : IValidateOptions<CircuitBreakerChatClientOptions>
{
    public ValidateOptionsResult Validate(string? name, CircuitBreakerChatClientOptions options)
    {
        try
        {
            options.Validate();
            return ValidateOptionsResult.Success;
        }
        catch (ArgumentOutOfRangeException ex)
        {
            return ValidateOptionsResult.Fail($"Chat client options '{name}': {ex.Message.Split(Environment.NewLine)[0]}");
        }
    }
}
