using Microsoft.Extensions.Time.Testing;

namespace Tripswitch.Testing;

/// <summary>
/// A <see cref="FakeTimeProvider"/> (at <see cref="TestBreakers.Start"/>) that keeps every timer it creates and
/// whether it was disposed, so releasing a timer is observable: a circuit a registry evicts, a time window a
/// reconfiguration replaces, a weak timer whose target was collected. The timers themselves are the fake clock's
/// (<see cref="FakeTimeProvider.Advance"/> fires them as usual).
/// </summary>
public sealed class TimerTrackingTimeProvider : FakeTimeProvider
{
    private readonly Lock _lock = new();
    private readonly List<TrackedTimer> _timers = [];

    /// <summary>Creates the clock at <see cref="TestBreakers.Start"/>.</summary>
    public TimerTrackingTimeProvider()
        : base(TestBreakers.Start)
    {
    }

    /// <summary>Every timer created so far, in the order they were created (a snapshot).</summary>
    public IReadOnlyList<TrackedTimer> Timers
    {
        get
        {
            lock (_lock)
            {
                return [.. _timers];
            }
        }
    }

    /// <inheritdoc/>
    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new TrackedTimer(base.CreateTimer(callback, state, dueTime, period));
        lock (_lock)
        {
            _timers.Add(timer);
        }

        return timer;
    }
}
