using Tripswitch.Controller;
using Xunit;

namespace Tripswitch.Tests.Controller;

public class CallCountersTests
{
    [Fact]
    public void Read_NewCounters_AllZero()
    {
        var counters = new CallCounters();

        Assert.Equal(new CounterSnapshot(0, 0, 0, 0, 0), counters.Read());
        Assert.Equal(0, counters.Read().InFlight);
    }

    [Fact]
    public void Read_AfterIncrements_SumsEachKindAndInFlightIsStartedMinusOutcomes()
    {
        var counters = new CallCounters();
        for (int i = 0; i < 10; i++)
        {
            counters.AddStarted();
        }

        counters.AddSuccess();
        counters.AddSuccess();
        counters.AddFailure();
        counters.AddIgnored();
        counters.AddRejected();
        counters.AddRejected();

        CounterSnapshot snapshot = counters.Read();
        Assert.Equal(new CounterSnapshot(10, 2, 1, 1, 2), snapshot);
        Assert.Equal(6, snapshot.InFlight); // rejected calls never started
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
                counters.AddStarted();
                switch ((i + t) % 3)
                {
                    case 0:
                        counters.AddSuccess();
                        break;
                    case 1:
                        counters.AddFailure();
                        break;
                    default:
                        counters.AddIgnored();
                        break;
                }

                if ((i & 7) == 0)
                {
                    counters.AddRejected();
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
