using Microsoft.Extensions.Options;

namespace Tripswitch.Http;

/// <summary>Validates a client's handler options when the host starts, with the handler's own rule.</summary>
internal sealed class CircuitBreakerHandlerOptionsValidator : IValidateOptions<CircuitBreakerHandlerOptions>
{
    public ValidateOptionsResult Validate(string? name, CircuitBreakerHandlerOptions options)
    {
        try
        {
            CircuitBreakerHandler.ValidTimeout(options.Timeout);
            return ValidateOptionsResult.Success;
        }
        catch (ArgumentOutOfRangeException ex)
        {
            return ValidateOptionsResult.Fail($"HttpClient '{name}': {ex.Message.Split(Environment.NewLine)[0]}");
        }
    }
}
