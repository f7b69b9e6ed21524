using Microsoft.Extensions.Logging;

namespace Tripswitch.Hosting.Logging;

/// <summary>
/// The log messages of Tripswitch (category <c>Tripswitch</c>), source-generated. They carry circuit names, states,
/// exception types, the head of exception messages (<see cref="ExceptionSummary"/>: up to the first blank line, where
/// HTTP clients put the response body) and durations only: never requests, headers, bodies or stack traces.
/// </summary>
internal static partial class TripswitchLog
{
    /// <summary>The logger category.</summary>
    public const string Category = "Tripswitch";

    [LoggerMessage(EventId = 1, EventName = "CircuitOpened", Level = LogLevel.Warning,
        Message = "Circuit '{CircuitName}' opened (was {PreviousState}); calls are rejected for {OpenPeriod}. Cause: {ExceptionType}: {ExceptionMessage}")]
    public static partial void CircuitOpened(ILogger logger, string circuitName, CircuitState previousState, string exceptionType, string exceptionMessage, TimeSpan openPeriod);

    [LoggerMessage(EventId = 2, EventName = "CircuitOpenedWithoutException", Level = LogLevel.Warning,
        Message = "Circuit '{CircuitName}' opened (was {PreviousState}); calls are rejected for {OpenPeriod}. Cause: its failure rule tripped (no exception).")]
    public static partial void CircuitOpenedWithoutException(ILogger logger, string circuitName, CircuitState previousState, TimeSpan openPeriod);

    [LoggerMessage(EventId = 3, EventName = "CircuitWouldHaveOpened", Level = LogLevel.Warning,
        Message = "Circuit '{CircuitName}' would have opened (was {PreviousState}), but it is in MetricsOnly mode: calls still pass. Cause: {ExceptionType}: {ExceptionMessage}")]
    public static partial void CircuitWouldHaveOpened(ILogger logger, string circuitName, CircuitState previousState, string exceptionType, string exceptionMessage);

    [LoggerMessage(EventId = 4, EventName = "CircuitIsolated", Level = LogLevel.Warning,
        Message = "Circuit '{CircuitName}' was isolated (was {PreviousState}): every call is rejected until it is reset.")]
    public static partial void CircuitIsolated(ILogger logger, string circuitName, CircuitState previousState);

    [LoggerMessage(EventId = 5, EventName = "CircuitHalfOpened", Level = LogLevel.Information,
        Message = "Circuit '{CircuitName}' is half-open (was {PreviousState}): up to {ProbeLimit} probe call(s) at a time test the dependency.")]
    public static partial void CircuitHalfOpened(ILogger logger, string circuitName, CircuitState previousState, int probeLimit);

    [LoggerMessage(EventId = 6, EventName = "CircuitClosed", Level = LogLevel.Information,
        Message = "Circuit '{CircuitName}' closed (was {PreviousState}).")]
    public static partial void CircuitClosed(ILogger logger, string circuitName, CircuitState previousState);

    [LoggerMessage(EventId = 7, EventName = "CallsRejected", Level = LogLevel.Debug,
        Message = "Circuit '{CircuitName}' rejected {RejectedCalls} call(s) while it was not closed.")]
    public static partial void CallsRejected(ILogger logger, string circuitName, long rejectedCalls);

    [LoggerMessage(EventId = 8, EventName = "CallRejected", Level = LogLevel.Debug,
        Message = "Circuit '{CircuitName}' rejected a call ({State}; retry after {RetryAfter}).")]
    public static partial void CallRejected(ILogger logger, string circuitName, CircuitState state, TimeSpan retryAfter);

    [LoggerMessage(EventId = 10, EventName = "ConfigurationReloaded", Level = LogLevel.Information,
        Message = "Tripswitch configuration reloaded: {CircuitCount} existing circuit(s) reconfigured, keeping their state and counts.")]
    public static partial void ConfigurationReloaded(ILogger logger, int circuitCount);

    [LoggerMessage(EventId = 11, EventName = "ConfigurationReloadRejected", Level = LogLevel.Error,
        Message = "Tripswitch configuration reload rejected; the circuits keep their previous options. {Reason}")]
    public static partial void ConfigurationReloadRejected(ILogger logger, string reason);

    [LoggerMessage(EventId = 12, EventName = "OptionsListenerFailed", Level = LogLevel.Error,
        Message = "Tripswitch configuration reloaded, but a listener of IOptionsMonitor<TripswitchOptions> failed: {ExceptionType}: {ExceptionMessage}")]
    public static partial void OptionsListenerFailed(ILogger logger, string exceptionType, string exceptionMessage);
}
