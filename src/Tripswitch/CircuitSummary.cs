using System.Globalization;

namespace Tripswitch;

/// <summary>
/// A snapshot of a circuit's state and statistics. The counts are exact:
/// <see cref="TotalCalls"/> = <see cref="Successful"/> + <see cref="Failed"/> + <see cref="Rejected"/> + <see cref="Ignored"/>,
/// where calls still in flight are not counted yet.
/// </summary>
public sealed class CircuitSummary
{
    internal CircuitSummary(
        string name,
        CircuitState state,
        int consecutiveFailures,
        Controller.CounterSnapshot counts,
        TimeSpan retryAfter,
        IReadOnlyList<CircuitTransition> transitions,
        long stateChanges)
    {
        StateChanges = stateChanges;
        Name = name;
        State = state;
        ConsecutiveFailures = consecutiveFailures;
        Successful = counts.Successful;
        Failed = counts.Failed;
        Ignored = counts.Ignored;
        Rejected = counts.Rejected;
        SlowCalls = counts.Slow;
        ShadowRejected = counts.ShadowRejected;
        RetryAfter = retryAfter;
        Transitions = transitions;
    }

    /// <summary>The circuit's name.</summary>
    public string Name { get; }

    /// <summary>The circuit's state when the snapshot was taken.</summary>
    public CircuitState State { get; }

    /// <summary>Handled failures since the last success or reset (it keeps its value while the circuit is open).</summary>
    public int ConsecutiveFailures { get; }

    /// <summary>Every completed call: successful, failed, ignored and rejected.</summary>
    public long TotalCalls => Successful + Failed + Ignored + Rejected;

    /// <summary>Calls that ran and succeeded.</summary>
    public long Successful { get; }

    /// <summary>Calls that ran and failed in a way that counts against the circuit.</summary>
    public long Failed { get; }

    /// <summary>Calls that ran and ended in an outcome that counts as neither (the caller's cancellation, or an exception the options don't handle).</summary>
    public long Ignored { get; }

    /// <summary>Calls the circuit rejected without running them.</summary>
    public long Rejected { get; }

    /// <summary>Calls slower than <see cref="CircuitBreakerOptions.SlowCallThreshold"/> (also counted as failed unless <see cref="CircuitBreakerOptions.SlowCallRatio"/> is set).</summary>
    public long SlowCalls { get; }

    /// <summary>In <see cref="CircuitBreakerMode.MetricsOnly"/> mode, calls that would have been rejected (they ran, and are also counted by their outcome).</summary>
    public long ShadowRejected { get; }

    /// <summary>Successful / (Successful + Failed), from 0 to 1; 1 when no call has run.</summary>
    public double SuccessRate => Successful + Failed == 0 ? 1.0 : (double)Successful / (Successful + Failed);

    /// <summary>How long until an open circuit lets a probe through; zero unless open, <see cref="TimeSpan.MaxValue"/> when isolated.</summary>
    public TimeSpan RetryAfter { get; }

    /// <summary>Every state change since the circuit was created (<see cref="Transitions"/> keeps only the most recent).</summary>
    public long StateChanges { get; }

    /// <summary>The most recent state changes, oldest first (at most 64).</summary>
    public IReadOnlyList<CircuitTransition> Transitions { get; }

    /// <summary>A one-line summary like <c>state=Open consecutive_failures=3 success_rate=0.0% total=10 rejected=7</c>.</summary>
    /// <returns>The summary line.</returns>
    public override string ToString() => string.Create(
        CultureInfo.InvariantCulture,
        $"circuit={Name} state={State} consecutive_failures={ConsecutiveFailures} success_rate={SuccessRate * 100:0.0}% total={TotalCalls} successful={Successful} failed={Failed} ignored={Ignored} rejected={Rejected} state_changes={StateChanges}");
}
