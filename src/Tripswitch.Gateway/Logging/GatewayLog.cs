using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Forwarder;

namespace Tripswitch.Gateway.Logging;

/// <summary>
/// The gateway's structured logs (category <c>Tripswitch.Gateway</c>), source-generated with stable event ids.
/// Privacy: only model and circuit names, states, status codes, error kinds and durations are logged; never keys,
/// headers, bodies or addresses with credentials.
/// </summary>
internal static partial class GatewayLog
{
    public const string Category = "Tripswitch.Gateway";

    [LoggerMessage(1, LogLevel.Debug, "Model {Model} via circuit {Circuit}: status {Status}, forwarder {Error}, {ElapsedMs:0.0} ms")]
    public static partial void Forwarded(ILogger logger, string model, string circuit, int status, ForwarderError error, double elapsedMs);

    [LoggerMessage(2, LogLevel.Information, "Model {Model}: circuit {Circuit} refused the call ({State})")]
    public static partial void CircuitRefused(ILogger logger, string model, string circuit, CircuitState state);

    [LoggerMessage(3, LogLevel.Information, "Model {Model}: fallback circuit {Circuit} answers")]
    public static partial void FallbackAnswering(ILogger logger, string model, string circuit);

    [LoggerMessage(4, LogLevel.Warning, "Model {Model}: no circuit can answer; 503 with Retry-After {RetryAfterSeconds:0.###} s (-1: unknown)")]
    public static partial void NothingAvailable(ILogger logger, string model, double retryAfterSeconds);

    [LoggerMessage(5, LogLevel.Warning, "Circuit {Circuit}: upstream failed (status {Status}, forwarder {Error})")]
    public static partial void UpstreamFailed(ILogger logger, string circuit, int status, ForwarderError error);

    [LoggerMessage(6, LogLevel.Information, "Refused a request body larger than {Limit} bytes")]
    public static partial void BodyTooLarge(ILogger logger, int limit);

    [LoggerMessage(7, LogLevel.Information, "Refused a request for a model this gateway does not serve")]
    public static partial void UnknownModel(ILogger logger);

    [LoggerMessage(11, LogLevel.Information, "Refused a request body the gateway cannot read one way ({Code})")]
    public static partial void InvalidBody(ILogger logger, string code);

    [LoggerMessage(8, LogLevel.Information, "Refused a request without a valid gateway key")]
    public static partial void Unauthorized(ILogger logger);

    [LoggerMessage(9, LogLevel.Warning, "No Gateway configuration: serving the embedded offline fake LLM at {Upstream}, with no client key")]
    public static partial void Offline(ILogger logger, Uri upstream);

    [LoggerMessage(10, LogLevel.Information, "Tripswitch gateway listening on {Url}: {Models} model(s), {Circuits} circuit(s)")]
    public static partial void Listening(ILogger logger, string url, int models, int circuits);

    [LoggerMessage(11, LogLevel.Warning, "Refused an admin sign-in: the key given is not the admin key")]
    public static partial void AdminSignInRefused(ILogger logger);

    [LoggerMessage(12, LogLevel.Information, "Admin session started for {KeyId}")]
    public static partial void AdminSignedIn(ILogger logger, string keyId);

    // Browsers and limits (ids 40-49).

    [LoggerMessage(40, LogLevel.Warning, "Listening on a wildcard address ({Url}) with AllowedHosts '*': any Host header is accepted, which lets a web page reach the gateway by DNS rebinding. Set AllowedHosts to the names clients use (for example AllowedHosts=gateway.example.com).")]
    public static partial void AnyHostAllowed(ILogger logger, string url);

    [LoggerMessage(41, LogLevel.Information, "Refused a request whose body is not declared as JSON")]
    public static partial void NotJson(ILogger logger);

    [LoggerMessage(42, LogLevel.Information, "Refused a request from a web origin not in AllowedOrigins")]
    public static partial void OriginRefused(ILogger logger);

    [LoggerMessage(43, LogLevel.Information, "Refused a request of {KeyId}: {Limit} requests already in progress")]
    public static partial void TooManyConcurrentRequests(ILogger logger, string keyId, int limit);
}
