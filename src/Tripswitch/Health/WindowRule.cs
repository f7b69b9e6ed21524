using System.Diagnostics;
using Tripswitch.Controller;

namespace Tripswitch.Health;

/// <summary>
/// A failure-rate rule over a window of recent calls. It sees only the outcomes of the current closed generation
/// and only says whether the circuit should open; the state machine decides and performs the transition.
/// </summary>
/// <remarks>
/// The window (its shape: <see cref="CircuitBreakerOptions.Rule"/>, <see cref="CircuitBreakerOptions.WindowSize"/>,
/// <see cref="CircuitBreakerOptions.SamplingDuration"/>) and the thresholds it is judged by are separate: a
/// reconfiguration that changes only thresholds keeps the window's contents and judges them by the new thresholds
/// (<see cref="ApplyThresholds"/>); only a new shape needs a new window (<see cref="HasSameShape"/>).
/// </remarks>
internal abstract class WindowRule
{
    // Replaced as a whole, so a lock-free reader judges by one consistent set (old or new, never a mix).
    private volatile Thresholds _thresholds;

    protected WindowRule(CircuitBreakerOptions options)
    {
        _thresholds = new Thresholds(options);
    }

    public static WindowRule? Create(CircuitBreakerOptions options, CallCounters counters) => options.Rule switch
    {
        FailureRule.CountWindow => new CountWindowRule(options),
        FailureRule.TimeWindow => new TimeWindowRule(options, counters),
        _ => null,
    };

    /// <summary>Whether a window built for <paramref name="current"/> can also serve <paramref name="next"/>: same rule, size and duration.</summary>
    public static bool HasSameShape(CircuitBreakerOptions current, CircuitBreakerOptions next)
        => current.Rule == next.Rule
            && (current.Rule != FailureRule.CountWindow || current.WindowSize == next.WindowSize)
            && (current.Rule != FailureRule.TimeWindow || current.SamplingDuration == next.SamplingDuration);

    /// <summary>Judges the window's contents, from now on, by the thresholds of <paramref name="options"/> (same shape).</summary>
    public void ApplyThresholds(CircuitBreakerOptions options)
    {
        Debug.Assert(options.Rule != FailureRule.ConsecutiveFailures, "Only window rules have a window.");
        _thresholds = new Thresholds(options);
    }

    /// <summary>Records one outcome of the current closed generation, on the calling thread.</summary>
    public abstract void Record(CallCounters.Slot slot, bool failure, bool slow);

    /// <summary>The counts in the window now.</summary>
    public abstract WindowCounts Current();

    /// <summary>Empties the window (the circuit closed). Called under the state machine's lock.</summary>
    public abstract void Reset();

    /// <summary>Stops background work (a time window's bucket timer).</summary>
    public virtual void Stop()
    {
    }

    /// <summary>Whether the window, as it is now, says the circuit should open.</summary>
    public bool ShouldOpen()
    {
        Thresholds thresholds = _thresholds;
        WindowCounts counts = Current();
        if (counts.Total < thresholds.MinimumThroughput || counts.Total <= 0)
        {
            return false;
        }

        return (double)counts.Failures / counts.Total >= thresholds.FailureRatio
            || (thresholds.SlowRatio is { } slowRatio && (double)counts.Slow / counts.Total >= slowRatio);
    }

    /// <summary>What the window's counts are judged by.</summary>
    private sealed class Thresholds(CircuitBreakerOptions options)
    {
        public double FailureRatio { get; } = options.FailureRatio;

        public double? SlowRatio { get; } = options.SlowCallRatio;

        public int MinimumThroughput { get; } = options.MinimumThroughput;
    }
}
