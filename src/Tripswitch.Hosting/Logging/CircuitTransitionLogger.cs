using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;

namespace Tripswitch.Hosting.Logging;

/// <summary>
/// Logs the state changes of a registry's circuits: opened and isolated at Warning (with the cause's type and message
/// and the open period), half-open and closed at Information, and at Debug every rejected call and, when a circuit
/// closes, how many calls it rejected while it was not closed.
/// </summary>
internal sealed class CircuitTransitionLogger
{
    private readonly ILogger _logger;

    // The rejected-call count of each circuit when it left Closed; weak, so evicted breakers are not kept alive.
    private readonly ConditionalWeakTable<CircuitBreaker, StrongBox<long>> _rejectedAtOpening = [];

    public CircuitTransitionLogger(ILogger logger) => _logger = logger;

    /// <summary>Handles <see cref="CircuitBreakerRegistry.Rejected"/>: one Debug line per rejected call (nothing when Debug is off).</summary>
    public void OnRejected(object? sender, CircuitRejection rejection)
    {
        if (_logger.IsEnabled(LogLevel.Debug))
        {
            TripswitchLog.CallRejected(_logger, rejection.CircuitName, rejection.State, rejection.RetryAfter);
        }
    }

    /// <summary>Handles <see cref="CircuitBreakerRegistry.StateChanged"/>; the sender is the breaker.</summary>
    public void OnStateChanged(object? sender, CircuitTransition transition)
    {
        var breaker = sender as CircuitBreaker;
        switch (transition.To)
        {
            case CircuitState.Open:
                LogOpened(breaker, transition);
                break;
            case CircuitState.Isolated:
                TrackRejections(breaker, transition);
                TripswitchLog.CircuitIsolated(_logger, transition.CircuitName, transition.From);
                break;
            case CircuitState.HalfOpen:
                if (_logger.IsEnabled(LogLevel.Information))
                {
                    TripswitchLog.CircuitHalfOpened(_logger, transition.CircuitName, transition.From, breaker?.Options.HalfOpenMaxCalls ?? 1);
                }

                break;
            case CircuitState.Closed:
                TripswitchLog.CircuitClosed(_logger, transition.CircuitName, transition.From);
                LogRejections(breaker, transition);
                break;
        }
    }

    private void LogOpened(CircuitBreaker? breaker, CircuitTransition transition)
    {
        TrackRejections(breaker, transition);
        if (!_logger.IsEnabled(LogLevel.Warning))
        {
            return;
        }

        Exception? cause = transition.Cause;
        string exceptionType = cause?.GetType().FullName ?? string.Empty;
        string exceptionMessage = ExceptionSummary.Of(cause?.Message); // never a response body (see ExceptionSummary)
        if (breaker?.Options.Mode == CircuitBreakerMode.MetricsOnly)
        {
            TripswitchLog.CircuitWouldHaveOpened(_logger, transition.CircuitName, transition.From, cause is null ? "(none)" : exceptionType, cause is null ? "its failure rule tripped" : exceptionMessage);
            return;
        }

        TimeSpan openPeriod = OpenPeriod(breaker, transition);
        if (cause is null)
        {
            TripswitchLog.CircuitOpenedWithoutException(_logger, transition.CircuitName, transition.From, openPeriod);
        }
        else
        {
            TripswitchLog.CircuitOpened(_logger, transition.CircuitName, transition.From, exceptionType, exceptionMessage, openPeriod);
        }
    }

    /// <summary>
    /// How long the circuit stays open: the summary's time until retry, while this opening is still the circuit's latest
    /// transition (events are delivered after the fact, so the circuit may have moved on; then zero).
    /// </summary>
    private static TimeSpan OpenPeriod(CircuitBreaker? breaker, CircuitTransition transition)
    {
        if (breaker is null)
        {
            return TimeSpan.Zero;
        }

        CircuitSummary summary = breaker.GetSummary();
        bool current = summary.State == CircuitState.Open && summary.Transitions.Count > 0 && summary.Transitions[^1] == transition;
        return current ? summary.RetryAfter : TimeSpan.Zero;
    }

    private void TrackRejections(CircuitBreaker? breaker, CircuitTransition transition)
    {
        if (breaker is not null && transition.From == CircuitState.Closed && _logger.IsEnabled(LogLevel.Debug))
        {
            _rejectedAtOpening.AddOrUpdate(breaker, new StrongBox<long>(breaker.GetSummary().Rejected));
        }
    }

    private void LogRejections(CircuitBreaker? breaker, CircuitTransition transition)
    {
        if (breaker is not null && _rejectedAtOpening.TryGetValue(breaker, out StrongBox<long>? before))
        {
            _rejectedAtOpening.Remove(breaker);
            long rejected = breaker.GetSummary().Rejected - before.Value;
            if (rejected > 0)
            {
                TripswitchLog.CallsRejected(_logger, transition.CircuitName, rejected);
            }
        }
    }
}
