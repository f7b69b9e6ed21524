using System.Diagnostics;
using System.Diagnostics.Metrics;
using Tripswitch.Controller;

namespace Tripswitch;

/// <summary>
/// Telemetry of every circuit in the process: a <see cref="Meter"/> named <c>Tripswitch</c> and events on
/// <see cref="Activity.Current"/>. None of it costs the closed hot path anything: call counts are observed from the
/// circuits' own exact counters when a listener collects, and durations are sampled.
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

    private static readonly Meter s_meter = new(MeterName, typeof(TripswitchTelemetry).Assembly.GetName().Version?.ToString());

    /// <summary>The one <c>Tripswitch</c> meter; the integration packages add their instruments to it.</summary>
    internal static Meter Meter => s_meter;
    private static readonly Lock s_lock = new();
    private static readonly List<WeakReference<CircuitStateMachine>> s_circuits = [];

    private static readonly Counter<long> s_transitions = s_meter.CreateCounter<long>(
        "tripswitch.circuit.transitions",
        unit: "{transition}",
        description: "State changes of circuits. In MetricsOnly mode these are the transitions that would have happened.");

    /// <summary>Durations of calls that ran; with no slow-call threshold, one call in 16 per thread is timed.</summary>
    public static readonly Histogram<double> CallDuration = s_meter.CreateHistogram<double>(
        "tripswitch.call.duration",
        unit: "s",
        description: "Duration of calls through circuits (sampled: one call in 16 per thread unless a slow-call threshold is set, then every call).");

    static TripswitchTelemetry()
    {
        s_meter.CreateObservableCounter(
            "tripswitch.calls",
            ObserveCalls,
            unit: "{call}",
            description: "Calls through circuits by outcome: success, failure, ignored, rejected, and shadow_rejected (would have been rejected in MetricsOnly mode).");
        s_meter.CreateObservableGauge(
            "tripswitch.circuit.state",
            ObserveStates,
            unit: "{state}",
            description: "1 for the state each circuit is in, 0 for the others.");
    }

    public static void Register(CircuitStateMachine machine)
    {
        lock (s_lock)
        {
            s_circuits.Add(new WeakReference<CircuitStateMachine>(machine));
        }
    }

    public static void Unregister(CircuitStateMachine machine)
    {
        lock (s_lock)
        {
            s_circuits.RemoveAll(w => !w.TryGetTarget(out CircuitStateMachine? m) || ReferenceEquals(m, machine));
        }
    }

    private static List<CircuitStateMachine> LiveCircuits()
    {
        var live = new List<CircuitStateMachine>();
        lock (s_lock)
        {
            s_circuits.RemoveAll(w =>
            {
                if (w.TryGetTarget(out CircuitStateMachine? machine))
                {
                    live.Add(machine);
                    return false;
                }

                return true;
            });
        }

        return live;
    }

    private static IEnumerable<Measurement<long>> ObserveCalls()
    {
        foreach (CircuitStateMachine machine in LiveCircuits())
        {
            if (machine.Options.Mode == CircuitBreakerMode.Disabled)
            {
                continue;
            }

            CounterSnapshot counts = machine.Counts;
            var name = new KeyValuePair<string, object?>(CircuitNameTag, machine.Name);
            yield return new(counts.Successful, name, new(OutcomeTag, OutcomeSuccess));
            yield return new(counts.Failed, name, new(OutcomeTag, OutcomeFailure));
            yield return new(counts.Ignored, name, new(OutcomeTag, OutcomeIgnored));
            yield return new(counts.Rejected, name, new(OutcomeTag, OutcomeRejected));
            if (machine.Options.Mode == CircuitBreakerMode.MetricsOnly)
            {
                yield return new(counts.ShadowRejected, name, new(OutcomeTag, OutcomeShadowRejected));
            }
        }
    }

    private static IEnumerable<Measurement<int>> ObserveStates()
    {
        foreach (CircuitStateMachine machine in LiveCircuits())
        {
            CircuitState current = machine.State;
            var name = new KeyValuePair<string, object?>(CircuitNameTag, machine.Name);
            foreach (CircuitState state in Enum.GetValues<CircuitState>())
            {
                yield return new(state == current ? 1 : 0, name, new(StateTag, StateName(state)));
            }
        }
    }

    public static void RecordDuration(CircuitStateMachine machine, long elapsedTimestampTicks, long frequency, string outcome)
    {
        if (CallDuration.Enabled)
        {
            CallDuration.Record(
                (double)elapsedTimestampTicks / frequency,
                new KeyValuePair<string, object?>(CircuitNameTag, machine.Name),
                new KeyValuePair<string, object?>(OutcomeTag, outcome));
        }
    }

    public static void OnTransition(CircuitStateMachine machine, CircuitTransition transition)
    {
        if (s_transitions.Enabled)
        {
            s_transitions.Add(
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
        if (Activity.Current is { } activity)
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
