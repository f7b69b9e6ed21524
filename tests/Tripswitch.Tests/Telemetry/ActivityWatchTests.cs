using System.Diagnostics;
using Tripswitch.Testing;
using Xunit;

namespace Tripswitch.Tests.Telemetry;

/// <summary>Runs alone: another test's activity starting on another flow would set a watch that must still be unset.</summary>
[CollectionDefinition(nameof(ActivityWatchTests), DisableParallelization = true)]
[Collection(nameof(ActivityWatchTests))]
public class ActivityWatchTests
{
    [Fact]
    public void AnySeen_NoActivityYet_FalseThenTrueOnceOneIsCurrentOnAnyFlow()
    {
        ActivityWatch watch = OnCleanFlow(() => new ActivityWatch());
        Assert.False(watch.AnySeen);

        OnCleanFlow(() =>
        {
            using Activity activity = new Activity("elsewhere").Start();
            return 0;
        });

        Assert.True(watch.AnySeen);
    }

    [Fact]
    public void AnySeen_MadeWhileAnActivityIsCurrent_TrueAtOnce()
    {
        ActivityWatch watch = OnCleanFlow(() =>
        {
            using Activity activity = new Activity("current").Start();
            return new ActivityWatch();
        });

        Assert.True(watch.AnySeen);
    }

    [Fact]
    public void Rejection_ActivityCurrentBeforeAndAfterTheFirstCircuit_GetsTheEvent()
    {
        // The process-wide watch: whichever test made the first circuit, an activity current now is seen.
        var breaker = new CircuitBreaker(new CircuitBreakerOptions { Name = "watched" });
        breaker.Isolate();
        using Activity activity = new Activity("request").Start();

        Assert.False(breaker.TryAcquirePermit(out _, out CircuitRejection _));

        Assert.True(ActivityWatch.Process.AnySeen);
        Assert.Contains(activity.Events, e => e.Name == "tripswitch.call.rejected");
    }

    /// <summary>Runs <paramref name="body"/> on a thread that inherits no execution context (so no current activity).</summary>
    private static T OnCleanFlow<T>(Func<T> body)
    {
        T result = default!;
        Thread thread;
        using (ExecutionContext.SuppressFlow())
        {
            thread = new Thread(() => result = body());
            thread.Start();
        }

        Eventually.Ended(thread, "the thread under the activity");
        return result;
    }
}
