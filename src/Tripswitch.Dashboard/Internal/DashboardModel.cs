using System.Text.Json;
using System.Text.Json.Serialization;

namespace Tripswitch.Dashboard.Internal;

/// <summary>Every circuit of a registry at one moment: the JSON status document.</summary>
/// <param name="GeneratedAt">When the snapshot was taken, by the dashboard's clock.</param>
/// <param name="Circuits">Every circuit, ordered by name (ordinal).</param>
internal sealed record DashboardSnapshot(DateTimeOffset GeneratedAt, IReadOnlyList<CircuitStatus> Circuits);

/// <summary>One circuit's summary, as JSON.</summary>
/// <param name="Name">The circuit's key in the registry.</param>
/// <param name="State">The circuit's state (<c>Closed</c>, <c>Open</c>, <c>HalfOpen</c>, <c>Isolated</c>).</param>
/// <param name="ConsecutiveFailures">Handled failures since the last success or reset.</param>
/// <param name="TotalCalls">Every completed call.</param>
/// <param name="Successful">Calls that succeeded.</param>
/// <param name="Failed">Calls that failed in a way that counts.</param>
/// <param name="Ignored">Calls that ended in an outcome that counts as neither.</param>
/// <param name="Rejected">Calls rejected without running.</param>
/// <param name="SlowCalls">Calls slower than the slow-call threshold.</param>
/// <param name="ShadowRejected">Calls that would have been rejected in metrics-only mode.</param>
/// <param name="SuccessRate">Successful / (Successful + Failed), 0 to 1; 1 when nothing ran.</param>
/// <param name="RetryAfterSeconds">Seconds until an open circuit lets a probe through; 0 unless open; <see langword="null"/> (written, not omitted) when isolated: until reset.</param>
/// <param name="StateChanges">Every state change since the circuit was created.</param>
/// <param name="LastTransition">The most recent state change, if any.</param>
/// <param name="Transitions">The recent state changes, oldest first.</param>
internal sealed record CircuitStatus(
    string Name,
    CircuitState State,
    int ConsecutiveFailures,
    long TotalCalls,
    long Successful,
    long Failed,
    long Ignored,
    long Rejected,
    long SlowCalls,
    long ShadowRejected,
    double SuccessRate,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] double? RetryAfterSeconds,
    long StateChanges,
    TransitionStatus? LastTransition,
    IReadOnlyList<TransitionStatus> Transitions)
{
    public static CircuitStatus Of(string name, CircuitSummary summary)
    {
        IReadOnlyList<CircuitTransition> transitions = summary.Transitions;
        var all = new TransitionStatus[transitions.Count];
        for (int i = 0; i < all.Length; i++)
        {
            all[i] = TransitionStatus.Of(transitions[i]);
        }

        return new CircuitStatus(
            name,
            summary.State,
            summary.ConsecutiveFailures,
            summary.TotalCalls,
            summary.Successful,
            summary.Failed,
            summary.Ignored,
            summary.Rejected,
            summary.SlowCalls,
            summary.ShadowRejected,
            summary.SuccessRate,
            // Isolated circuits report TimeSpan.MaxValue: "until reset", which JSON says as null.
            summary.State == CircuitState.Isolated || summary.RetryAfter == TimeSpan.MaxValue ? null : Math.Round(summary.RetryAfter.TotalSeconds, 3),
            summary.StateChanges,
            all.Length > 0 ? all[^1] : null,
            all);
    }
}

/// <summary>One state change, as JSON: an item of <see cref="CircuitStatus.Transitions"/> and the stream's <c>transition</c> event.</summary>
/// <param name="Circuit">The circuit's name.</param>
/// <param name="From">The state it left.</param>
/// <param name="To">The state it entered.</param>
/// <param name="At">When, by the circuit's clock.</param>
/// <param name="Cause">
/// The full type name of the failure that caused it, if any. Only the type: exception messages can carry URLs,
/// keys or user data that a status page must not show.
/// </param>
/// <param name="DroppedTransitions">On the stream, how many earlier transitions this client missed because it read too slowly; omitted when none.</param>
internal sealed record TransitionStatus(
    string Circuit,
    CircuitState From,
    CircuitState To,
    DateTimeOffset At,
    string? Cause,
    long? DroppedTransitions = null)
{
    public static TransitionStatus Of(CircuitTransition transition, long? droppedTransitions = null) => new(
        transition.CircuitName,
        transition.From,
        transition.To,
        transition.At,
        transition.Cause?.GetType().FullName,
        droppedTransitions);
}

/// <summary>Source-generated JSON (camelCase, enums as names, nulls omitted): no reflection, trim-safe.</summary>
[JsonSourceGenerationOptions(
    JsonSerializerDefaults.Web,
    UseStringEnumConverter = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(DashboardSnapshot))]
[JsonSerializable(typeof(TransitionStatus))]
[JsonSerializable(typeof(ViewSnapshot))]
[JsonSerializable(typeof(ViewDiff))]
internal sealed partial class DashboardJsonContext : JsonSerializerContext;
