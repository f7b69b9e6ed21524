using Polly;
using Tripswitch.Http;

namespace Tripswitch.Polly;

/// <summary>
/// Options of a Tripswitch strategy in an HTTP pipeline (<c>AddResilienceHandler</c>, or
/// <c>AddStandardResilienceHandlerWithTripswitch</c>), preset with Tripswitch.Http's rules: one circuit per authority,
/// named as the HTTP handler names it (<see cref="CircuitBreakerHandlerOptions.AuthorityKey(Uri)"/>:
/// <c>api.openai.com</c>, <c>127.0.0.1-4100</c>), the handler's failure rule
/// (<see cref="CircuitBreakerHandlerOptions.IsTransientFailure"/>: 5xx, 408, 429) and its rate-limit headers
/// (<see cref="RetryAfterParser"/>: <c>Retry-After</c>, <c>retry-after-ms</c>, <c>x-ratelimit-reset-*</c>).
/// Set <see cref="TripswitchStrategyOptions{TResult}.Registry"/> (the one-liner takes the container's) and change any
/// preset as with the base options.
/// </summary>
public class HttpTripswitchStrategyOptions : TripswitchStrategyOptions<HttpResponseMessage>
{
    /// <summary>Creates options with the HTTP presets; <see cref="TripswitchStrategyOptions{TResult}.Registry"/> is still to set.</summary>
    public HttpTripswitchStrategyOptions()
        : this(TimeProvider.System)
    {
    }

    /// <summary>Creates options with the HTTP presets, reading <c>Retry-After</c> dates against <paramref name="timeProvider"/>.</summary>
    internal HttpTripswitchStrategyOptions(TimeProvider timeProvider)
    {
        KeySelector = AuthorityKey;
        IsFailure = CircuitBreakerHandlerOptions.IsTransientFailure;
        RetryAfter = response => RetryAfterParser.Parse(response, timeProvider);
    }

    /// <summary>The HTTP handler's key of the execution's request (the request Microsoft.Extensions.Http.Resilience puts on the context).</summary>
    private static string AuthorityKey(ResilienceContext context)
        => CircuitBreakerHandlerOptions.AuthorityKey(context.GetRequestMessage()
            ?? throw new InvalidOperationException("The resilience context carries no HttpRequestMessage, so its circuit can't be chosen by authority: use HttpTripswitchStrategyOptions in an HttpClient's resilience handler, or set a KeySelector."));
}
