using Tripswitch.Controller;
using Xunit;

namespace Tripswitch.Tests.Controller;

public class CallCountersTests
{
    [Fact]
    public void Read_NewCounters_AllZero()
    {
        var counters = new CallCounters();

        Assert.Equal(new CounterSnapshot(0, 0, 0, 0, 0, 0, 0), counters.Read());
        Assert.Equal(0, counters.Read().InFlight);
    }

    [Fact]
    public void Read_AfterIncrements_SumsEachKindAndInFlightIsStartedMinusOutcomes()
    {
        var counters = new CallCounters();
        for (int i = 0; i < 10; i++)
        {
            CallCounters.Increment(ref counters.Current.Started);
        }

        CallCounters.Increment(ref counters.Current.Successful);
        CallCounters.Increment(ref counters.Current.Successful);
        CallCounters.Increment(ref counters.Current.Failed);
        CallCounters.Increment(ref counters.Current.Ignored);
        CallCounters.Increment(ref counters.Current.Rejected);
        CallCounters.Increment(ref counters.Current.Rejected);

        CounterSnapshot snapshot = counters.Read();
        Assert.Equal(new CounterSnapshot(10, 2, 1, 1, 2, 0, 0), snapshot);
        Assert.Equal(6, snapshot.InFlight); // rejected calls never started
    }

    [Fact]
    public void Current_SameThread_SameSlot_OtherThread_OtherSlot()
    {
        var counters = new CallCounters();
        CallCounters.Slot mine = counters.Current;
        CallCounters.Slot? theirs = null;
        var thread = new Thread(() => theirs = counters.Current);
        thread.Start();
        thread.Join();

        Assert.Same(mine, counters.Current);
        Assert.NotNull(theirs);
        Assert.NotSame(mine, theirs);
    }

    [Fact]
    public void Read_ThreadsThatEnded_KeepTheirCounts()
    {
        var counters = new CallCounters();
        for (int t = 0; t < 50; t++)
        {
            var thread = new Thread(() => CallCounters.Increment(ref counters.Current.Successful));
            thread.Start();
            thread.Join();
        }

        GC.Collect();
        GC.WaitForPendingFinalizers(); // ended threads hand their index to new ones; the counts stay in the slots
        var last = new Thread(() => CallCounters.Increment(ref counters.Current.Successful));
        last.Start();
        last.Join();

        Assert.Equal(51, counters.Read().Successful);
    }

    [Fact]
    public void Read_FourThreadsIncrementingTogether_NoCountIsLost()
    {
        const int Threads = 4;
        const int PerThread = 250_000;
        var counters = new CallCounters();
        using var start = new ManualResetEventSlim();
        var threads = Enumerable.Range(0, Threads).Select(t => new Thread(() =>
        {
            start.Wait(TestContext.Current.CancellationToken);
            for (int i = 0; i < PerThread; i++)
            {
                CallCounters.Increment(ref counters.Current.Started);
                switch ((i + t) % 3)
                {
                    case 0:
                        CallCounters.Increment(ref counters.Current.Successful);
                        break;
                    case 1:
                        CallCounters.Increment(ref counters.Current.Failed);
                        break;
                    default:
                        CallCounters.Increment(ref counters.Current.Ignored);
                        break;
                }

                if ((i & 7) == 0)
                {
                    CallCounters.Increment(ref counters.Current.Rejected);
                }
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        start.Set();
        threads.ForEach(t => t.Join());

        CounterSnapshot snapshot = counters.Read();
        long ExpectedPerKind(int kind) => Enumerable.Range(0, Threads).Sum(t => Enumerable.Range(0, PerThread).LongCount(i => (i + t) % 3 == kind));
        Assert.Equal((long)Threads * PerThread, snapshot.Started);
        Assert.Equal(ExpectedPerKind(0), snapshot.Successful);
        Assert.Equal(ExpectedPerKind(1), snapshot.Failed);
        Assert.Equal(ExpectedPerKind(2), snapshot.Ignored);
        Assert.Equal(Threads * ((PerThread + 7) / 8), snapshot.Rejected);
        Assert.Equal(0, snapshot.InFlight);
    }
}
