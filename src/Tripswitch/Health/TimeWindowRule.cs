using Tripswitch.Controller;

namespace Tripswitch.Health;

/// <summary>
/// The failure ratio over the last <see cref="CircuitBreakerOptions.SamplingDuration"/>, in buckets.
/// </summary>
/// <remarks>
/// The hot path reads no clock: each call adds to the circuit's cumulative totals (<see cref="Controller.CallCounters"/>), and a timer of the
/// options' <see cref="TimeProvider"/> takes a snapshot of the totals at every bucket boundary. The window's counts are
/// the totals now minus the snapshot taken (buckets − 1) boundaries ago: the full buckets plus the current partial one.
/// </remarks>
#pragma warning disable CA1001 // The timer's owner ends it through WindowRule.Stop (rule replaced, circuit detached); a rule merely dropped is collected and its WeakTimer then disposes itself.
internal sealed class TimeWindowRule : WindowRule
#pragma warning restore CA1001
{
    private readonly CallCounters _counters;
    private readonly Lock _sync = new();
    private readonly WindowCounts[] _snapshots;
    private readonly WeakTimer<TimeWindowRule> _timer;
    private int _oldest;

    public TimeWindowRule(CircuitBreakerOptions options, CallCounters counters)
        : base(options)
    {
        _counters = counters;
        // One snapshot per bucket: after each boundary the oldest is the one taken (buckets − 1) boundaries before it,
        // and the newest is overwritten only at the next boundary.
        _snapshots = new WindowCounts[CircuitBreakerDefaults.TimeWindowBuckets];

        // The totals are cumulative over the circuit's life (a reconfigured circuit has history): start from now.
        Array.Fill(_snapshots, counters.ReadWindow());
        TimeSpan bucket = options.SamplingDuration / CircuitBreakerDefaults.TimeWindowBuckets;

        // The timer holds this rule weakly: a rule nobody uses any more is collected, and the timer stops itself.
        _timer = new WeakTimer<TimeWindowRule>(options.TimeProvider, this, static rule => rule.OnBucketBoundary(), bucket, bucket);
    }

    public override void Record(CallCounters.Slot slot, bool failure, bool slow)
    {
        slot.Increment(ref slot.WindowTotal);
        if (failure)
        {
            slot.Increment(ref slot.WindowFailures);
        }

        if (slow)
        {
            slot.Increment(ref slot.WindowSlow);
        }
    }

    public override WindowCounts Current()
    {
        WindowCounts now = _counters.ReadWindow();
        lock (_sync)
        {
            return now - _snapshots[_oldest];
        }
    }

    public override void Reset()
    {
        WindowCounts now = _counters.ReadWindow();
        lock (_sync)
        {
            Array.Fill(_snapshots, now);
        }
    }

    public override void Stop() => _timer.Dispose();

    private void OnBucketBoundary()
    {
        WindowCounts now = _counters.ReadWindow();
        lock (_sync)
        {
            // The oldest snapshot drops out; the newest takes its place in the ring.
            _snapshots[_oldest] = now;
            _oldest = (_oldest + 1) % _snapshots.Length;
        }
    }
}
