using System.Collections.Concurrent;
using Tripswitch.Controller;
using Tripswitch.Testing;
using Xunit;

namespace Tripswitch.Tests.Controller;

public class TransitionLogTests
{
    private static CircuitTransition Transition(CircuitState from, CircuitState to)
        => new("log", from, to, DateTimeOffset.UnixEpoch, null);

    [Fact]
    public void SnapshotLocked_KeepsTheLastTransitionsOldestFirst()
    {
        var sync = new Lock();
        var log = new TransitionLog(sync, _ => { });
        int total = CircuitBreakerDefaults.TransitionLogSize + 3;

        lock (sync)
        {
            for (int i = 0; i < total; i++)
            {
                log.AddLocked(Transition(i % 2 == 0 ? CircuitState.Closed : CircuitState.Open, i % 2 == 0 ? CircuitState.Open : CircuitState.Closed));
            }

            CircuitTransition[] kept = log.SnapshotLocked();
            Assert.Equal(64, kept.Length); // the documented size of the log (CircuitSummary.Transitions: the last 64)
            Assert.Equal(CircuitState.Open, kept[0].From); // transition 3 (odd): Open → Closed
            Assert.Equal(total, log.TotalLocked);
        }
    }

    [Fact]
    public void Dispatch_DeliversInOrder_AndAThrowingHandlerStopsNothing()
    {
        var sync = new Lock();
        var delivered = new List<CircuitState>();
        var log = new TransitionLog(sync, t =>
        {
            delivered.Add(t.To);
            if (t.To == CircuitState.Open)
            {
                throw new InvalidOperationException("handler bug");
            }
        });
        lock (sync)
        {
            log.AddLocked(Transition(CircuitState.Closed, CircuitState.Open));
            log.AddLocked(Transition(CircuitState.Open, CircuitState.HalfOpen));
            log.AddLocked(Transition(CircuitState.HalfOpen, CircuitState.Closed));
        }

        log.Dispatch();
        log.Dispatch();

        Assert.Equal([CircuitState.Open, CircuitState.HalfOpen, CircuitState.Closed], delivered);
    }

    [Fact]
    public void Dispatch_ManyThreadsAddingAndDispatching_DeliverEachOnceInOrderOneAtATime()
    {
        for (int round = 0; round < 200; round++)
        {
            var sync = new Lock();
            var delivered = new ConcurrentQueue<int>();
            int delivering = 0;
            int overlap = 0;
            int sequence = 0;
            TransitionLog? log = null;
            log = new TransitionLog(sync, t =>
            {
                if (Interlocked.Increment(ref delivering) != 1)
                {
                    Interlocked.Increment(ref overlap);
                }

                delivered.Enqueue(t.At.Millisecond + (t.At.Second * 1000));
                Interlocked.Decrement(ref delivering);
            });
            var threads = Enumerable.Range(0, 4).Select(_ => new Thread(() =>
            {
                for (int i = 0; i < 50; i++)
                {
                    lock (sync)
                    {
                        int n = sequence++;
                        log.AddLocked(new CircuitTransition("log", CircuitState.Closed, CircuitState.Open, DateTimeOffset.UnixEpoch.AddMilliseconds(n), null));
                    }

                    log.Dispatch();
                }
            })).ToArray();
            Array.ForEach(threads, t => t.Start());
            Array.ForEach(threads, t => Eventually.Ended(t, "a recording thread"));
            log.Dispatch();

            Assert.Equal(0, overlap);
            Assert.Equal(Enumerable.Range(0, 200), delivered);
        }
    }
}
