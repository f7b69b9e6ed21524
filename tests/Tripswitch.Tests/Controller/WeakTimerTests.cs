using System.Runtime.CompilerServices;
using Microsoft.Extensions.Time.Testing;
using Tripswitch.Controller;
using Xunit;

namespace Tripswitch.Tests.Controller;

public class WeakTimerTests
{
    private sealed class Target
    {
        public int Fired;
    }

    [Fact]
    public void Schedule_FiresOnceAfterTheDelay_CancelStopsIt()
    {
        var time = new FakeTimeProvider();
        var target = new Target();
        using var timer = new WeakTimer<Target>(time, target, static t => t.Fired++, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);

        timer.Schedule(TimeSpan.FromSeconds(2));
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(0, target.Fired);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, target.Fired);
        time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(1, target.Fired);

        timer.Schedule(TimeSpan.FromSeconds(1));
        timer.Cancel();
        time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(1, target.Fired);
    }

    [Fact]
    public void Fire_TargetCollected_TheTimerDoesNotKeepItAlive()
    {
        var time = new FakeTimeProvider();
        (WeakReference<Target> weak, WeakTimer<Target> timer) = CreateUnreferenced(time);

        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();

        Assert.False(weak.TryGetTarget(out _));
        time.Advance(TimeSpan.FromSeconds(1)); // fires without a target: disposes itself, calls nothing
        time.Advance(TimeSpan.FromSeconds(1));
        GC.KeepAlive(timer);
    }

    [Fact]
    public void Fire_TargetCollected_DisposesItsTimer()
    {
        // The first firing without a target disposes the provider's timer, so the provider stops firing it.
        var time = new TimerTrackingTimeProvider();
        (WeakReference<Target> weak, WeakTimer<Target> timer) = CreateUnreferenced(time);
        TrackedTimer tracked = Assert.Single(time.Timers);

        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();

        Assert.False(weak.TryGetTarget(out _));
        Assert.False(tracked.IsDisposed); // not before it fires
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(tracked.IsDisposed);
        GC.KeepAlive(timer);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static (WeakReference<Target>, WeakTimer<Target>) CreateUnreferenced(TimeProvider time)
    {
        var target = new Target();
        var timer = new WeakTimer<Target>(time, target, static t => t.Fired++, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
        return (new WeakReference<Target>(target), timer);
    }
}
