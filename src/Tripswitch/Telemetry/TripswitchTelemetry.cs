using System.Diagnostics;
using System.Diagnostics.Metrics;
using Tripswitch.Controller;

namespace Tripswitch;

/// <summary>
/// Telemetry of every circuit in the process: names, and what the state machine calls to report. Measurements go to
/// the circuit's <see cref="TripswitchInstruments"/> (the meter named <c>Tripswitch</c>, process-wide or from the
/// circuit's <see cref="CircuitBreakerOptions.MeterFactory"/>); events go to <see cref="Activity.Current"/>. None of it
/// costs the closed hot path anything: call counts are observed from the circuits' own exact counters when a listener
/// collects, and durations are sampled.
/// </summary>
internal static class TripswitchTelemetry
{
    public const string MeterName = "Tripswitch";

    public const string CircuitNameTag = "tripswitch.circuit.name";
    public const string OutcomeTag = "tripswitch.call.outcome";
    public const string StateTag = "tripswitch.circuit.state";
    public const string PreviousStateTag = "tripswitch.circuit.previous_state";
    public const string ModeTag = "tripswitch.circuit.mode";

    public const string OutcomeSuccess = "success";
    public const string OutcomeFailure = "failure";
    public const string OutcomeIgnored = "ignored";
    public const string OutcomeRejected = "rejected";
    public const string OutcomeShadowRejected = "shadow_rejected";

    /// <summary>The OpenTelemetry attribute naming why a call failed (on <c>tripswitch.call.duration</c>, failures only).</summary>
    public const string ErrorTypeTag = "error.type";

    /// <summary><see cref="ErrorTypeTag"/> of a call that succeeded but took longer than the slow-call threshold, which counts as a failure.</summary>
    public const string ErrorTypeSlowCall = "tripswitch.slow_call";

    /// <summary><see cref="ErrorTypeTag"/> of a failure reported without an exception (OpenTelemetry's fallback value).</summary>
    public const string ErrorTypeOther = "_OTHER";

    /// <summary>The process-wide <c>Tripswitch</c> meter; the integration packages add their instruments to it.</summary>
    internal static Meter Meter => TripswitchInstruments.Default.Meter;

    public static void Register(CircuitStateMachine machine) => machine.Telemetry.Register(machine);

    public static void Unregister(CircuitStateMachine machine) => machine.Telemetry.Unregister(machine);

    /// <summary>Records a timed call's duration; <paramref name="errorType"/> is the <c>error.type</c> of a failure, null otherwise.</summary>
    public static void RecordDuration(CircuitStateMachine machine, long elapsedTimestampTicks, long frequency, string outcome, string? errorType = null)
    {
        Histogram<double> duration = machine.Telemetry.CallDuration;
        if (!duration.Enabled)
        {
            return;
        }

        var name = new KeyValuePair<string, object?>(CircuitNameTag, machine.Name);
        var result = new KeyValuePair<string, object?>(OutcomeTag, outcome);
        double seconds = (double)elapsedTimestampTicks / frequency;
        if (errorType is null)
        {
            duration.Record(seconds, name, result);
        }
        else
        {
            duration.Record(seconds, name, result, new KeyValuePair<string, object?>(ErrorTypeTag, errorType));
        }
    }

    /// <summary>The <c>error.type</c> of a failure: the exception's full type name, or <see cref="ErrorTypeOther"/> without one.</summary>
    public static string ErrorType(Exception? exception) => exception?.GetType().FullName ?? ErrorTypeOther;

    public static void OnTransition(CircuitStateMachine machine, CircuitTransition transition)
    {
        Counter<long> transitions = machine.Telemetry.Transitions;
        if (transitions.Enabled)
        {
            transitions.Add(
                1,
                new KeyValuePair<string, object?>(CircuitNameTag, machine.Name),
                new KeyValuePair<string, object?>(PreviousStateTag, StateName(transition.From)),
                new KeyValuePair<string, object?>(StateTag, StateName(transition.To)),
                new KeyValuePair<string, object?>(ModeTag, ModeName(machine.Options.Mode)));
        }
    }

    public static void AddTransitionEvent(CircuitTransition transition)
    {
        Activity.Current?.AddEvent(new ActivityEvent(
            "tripswitch.circuit.transition",
            tags: new ActivityTagsCollection
            {
                [CircuitNameTag] = transition.CircuitName,
                [PreviousStateTag] = StateName(transition.From),
                [StateTag] = StateName(transition.To),
            }));
    }

    public static void OnRejected(CircuitStateMachine machine, CircuitRejection rejection)
    {
        if (ActivityWatch.Process.AnySeen && Activity.Current is { } activity)
        {
            TimeSpan retryAfter = rejection.RetryAfter;
            activity.AddEvent(new ActivityEvent(
                "tripswitch.call.rejected",
                tags: new ActivityTagsCollection
                {
                    [CircuitNameTag] = machine.Name,
                    [StateTag] = StateName(rejection.State),
                    ["tripswitch.retry_after"] = retryAfter == TimeSpan.MaxValue ? -1 : retryAfter.TotalSeconds,
                }));
        }
    }

    public static string StateName(CircuitState state) => state switch
    {
        CircuitState.Closed => "closed",
        CircuitState.Open => "open",
        CircuitState.HalfOpen => "half_open",
        _ => "isolated",
    };

    private static string ModeName(CircuitBreakerMode mode) => mode switch
    {
        CircuitBreakerMode.MetricsOnly => "metrics_only",
        CircuitBreakerMode.Disabled => "disabled",
        _ => "enabled",
    };
}
