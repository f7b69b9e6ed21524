using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Tripswitch.AI;

/// <summary>
/// Fails start-up (with the named options' <c>ValidateOnStart</c>) when the container has no
/// <see cref="CircuitBreakerRegistry"/> for <c>UseCircuitBreaker(name)</c> to take its circuits from, instead of the
/// first request that builds the pipeline failing after the application started.
/// </summary>
/// <remarks>It asks whether the registry is registered (<see cref="IServiceProviderIsService"/>) without creating it.</remarks>
internal sealed class ChatClientRegistryValidator(IServiceProviderIsService isService) : IValidateOptions<CircuitBreakerChatClientOptions>
{
    public ValidateOptionsResult Validate(string? name, CircuitBreakerChatClientOptions options)
        => isService.IsService(typeof(CircuitBreakerRegistry))
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"Chat client options '{name}': {MissingRegistry}");

    /// <summary>What to do when there is no registry; also the message of a pipeline built without one.</summary>
    internal const string MissingRegistry =
        "UseCircuitBreaker takes its circuits from the CircuitBreakerRegistry in the container, and there is none. " +
        "Add the Tripswitch.Hosting package and call services.AddTripswitch(...) (it registers the registry, configured from the 'Tripswitch' section), " +
        "or pass a registry: UseCircuitBreaker(registry, ...).";
}
