using Tripswitch.Controller;

namespace Tripswitch.Health;

/// <summary>
/// A failure-rate rule over a window of recent calls. It sees only the outcomes of the current closed generation
/// and only says whether the circuit should open; the state machine decides and performs the transition.
/// </summary>
internal abstract class WindowRule
{
    private readonly double _failureRatio;
    private readonly double? _slowRatio;
    private readonly int _minimumThroughput;

    protected WindowRule(CircuitBreakerOptions options)
    {
        _failureRatio = options.FailureRatio;
        _slowRatio = options.SlowCallRatio;
        _minimumThroughput = options.MinimumThroughput;
    }

    public static WindowRule? Create(CircuitBreakerOptions options, CallCounters counters) => options.Rule switch
    {
        FailureRule.CountWindow => new CountWindowRule(options),
        FailureRule.TimeWindow => new TimeWindowRule(options, counters),
        _ => null,
    };

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
        WindowCounts counts = Current();
        if (counts.Total < _minimumThroughput || counts.Total <= 0)
        {
            return false;
        }

        return (double)counts.Failures / counts.Total >= _failureRatio
            || (_slowRatio is { } slowRatio && (double)counts.Slow / counts.Total >= slowRatio);
    }
}
