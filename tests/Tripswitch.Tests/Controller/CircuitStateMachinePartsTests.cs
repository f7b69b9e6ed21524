using System.Collections.Concurrent;
using Xunit;

namespace Tripswitch.Tests.Controller;

/// <summary>
/// The parts a circuit makes at first use (its lock, its transition log, its probe slots; CircuitStateMachine.Parts.cs),
/// raced by real threads on fresh circuits, many rounds: every round's first use is the one that makes them.
/// </summary>
public class CircuitStateMachinePartsTests
{
    private const int Threads = 4;
    private const int Rounds = 300;
    private static readonly TimeSpan _recovery = TimeSpan.FromSeconds(1);

    [Fact]
    public void Sync_ThreadsAskAFreshCircuitForItsLockAtOnce_AllGetTheSameLock()
    {
        // Made by the first thread that needs it: two threads that each made one must still end up locking the same.
        using var race = new ThreadRace(Threads);
        CircuitBreaker breaker = null!;
        var locks = new Lock?[Threads];
        race.Start(i =>
        {
            for (int round = 0; round < Rounds; round++)
            {
                race.Sync();
                locks[i] = breaker.Machine.Sync;
                race.Sync();
            }
        });

        for (int round = 0; round < Rounds; round++)
        {
            breaker = TestBreakers.Create(TestBreakers.Clock());
            Array.Clear(locks);
            race.Sync();
            race.Sync();

            Lock expected = breaker.Machine.Sync;
            Assert.All(locks, l => Assert.True(l == expected, $"round {round}: a thread got a lock of its own"));
        }

        race.Join();
    }

    [Fact]
    public void IsolateAndReset_ThreadsRaceOnAFreshCircuit_EveryTransitionIsLoggedAndDeliveredOnceInAChain()
    {
        // The threads' first Isolate makes the lock and the first transition makes the log. Threads that made a lock of
        // their own would run transitions side by side for the circuit's whole life, breaking the chain (Closed →
        // Isolated twice); a log of their own would lose transitions from the summary or deliver them out of order.
        const int Switches = 20;
        using var race = new ThreadRace(Threads);
        CircuitBreaker breaker = null!;
        race.Start(_ =>
        {
            for (int round = 0; round < Rounds; round++)
            {
                race.Sync();
                for (int i = 0; i < Switches; i++)
                {
                    breaker.Isolate();
                    breaker.Reset();
                }

                race.Sync();
            }
        });

        for (int round = 0; round < Rounds; round++)
        {
            breaker = TestBreakers.Create(TestBreakers.Clock());
            var delivered = new ConcurrentQueue<CircuitTransition>();
            breaker.StateChanged += (_, t) => delivered.Enqueue(t);
            race.Sync();
            race.Sync();

            CircuitSummary summary = breaker.GetSummary();
            CircuitTransition[] seen = [.. delivered];
            Assert.Equal(CircuitState.Closed, summary.State);
            Assert.Equal(summary.StateChanges, seen.Length);
            Assert.Equal((CircuitState.Closed, CircuitState.Isolated), (seen[0].From, seen[0].To));
            for (int i = 1; i < seen.Length; i++)
            {
                Assert.True(seen[i - 1].To == seen[i].From, $"round {round}: transition #{i} ({seen[i].From}→{seen[i].To}) does not follow #{i - 1}");
            }

            Assert.Equal(seen.TakeLast(summary.Transitions.Count), summary.Transitions);
        }

        race.Join();
    }

    [Fact]
    public void Execute_ThreadsRaceTheFirstProbeOfACircuit_ExactlyOneProbeRunsAndItsSuccessCloses()
    {
        // The circuit has never probed: the first probe makes the probe slots. Two sets of slots would let two probes in.
        using var race = new ThreadRace(Threads);
        CircuitBreaker breaker = null!;
        int ran = 0, rejected = 0;
        race.Start(_ =>
        {
            for (int round = 0; round < Rounds; round++)
            {
                race.Sync();
                try
                {
                    breaker.Execute(() => Interlocked.Increment(ref ran));
                }
                catch (CircuitOpenException)
                {
                    Interlocked.Increment(ref rejected);
                }

                race.Sync();
            }
        });

        for (int round = 0; round < Rounds; round++)
        {
            var time = TestBreakers.Clock();
            breaker = TestBreakers.Create(time, o =>
            {
                o.FailureThreshold = 1;
                o.HalfOpenMaxCalls = 1;
                o.SuccessThreshold = 1;
                o.RecoveryTimeout = _recovery;
            });
            TestBreakers.HalfOpen(breaker, time, threshold: 1, _recovery);
            ran = 0;
            rejected = 0;
            race.Sync();
            race.Sync();

            // One probe ran and closed the circuit; a thread that came after it may have run as a closed call.
            CircuitSummary summary = breaker.GetSummary();
            Assert.Equal(CircuitState.Closed, summary.State);
            Assert.Equal(Threads, ran + rejected);
            Assert.Equal(ran, (int)summary.Successful);
            Assert.Equal(rejected, (int)summary.Rejected);
            Assert.True(ran >= 1, "no probe ran");
            Assert.Equal(
                [(CircuitState.Closed, CircuitState.Open), (CircuitState.Open, CircuitState.HalfOpen), (CircuitState.HalfOpen, CircuitState.Closed)],
                summary.Transitions.Select(t => (t.From, t.To)));
        }

        race.Join();
    }

    [Fact]
    public void Execute_ThreadsRaceTheFirstProbeThatHangs_OnlyOneHoldsTheSlot()
    {
        // The probe holds its slot until every thread has tried: exactly one callback runs, the others are rejected.
        using var race = new ThreadRace(Threads);
        CircuitBreaker breaker = null!;
        int ran = 0, rejected = 0;
        race.Start(_ =>
        {
            for (int round = 0; round < Rounds; round++)
            {
                race.Sync();
                try
                {
                    breaker.Execute(() =>
                    {
                        Interlocked.Increment(ref ran);
                        race.Sync(); // the test's thread and the others meet here only after they were rejected
                    });
                }
                catch (CircuitOpenException)
                {
                    Interlocked.Increment(ref rejected);
                    race.Sync();
                }

                race.Sync();
            }
        });

        for (int round = 0; round < Rounds; round++)
        {
            var time = TestBreakers.Clock();
            breaker = TestBreakers.Create(time, o =>
            {
                o.FailureThreshold = 1;
                o.HalfOpenMaxCalls = 1;
                o.SuccessThreshold = 1;
                o.RecoveryTimeout = _recovery;
            });
            TestBreakers.HalfOpen(breaker, time, threshold: 1, _recovery);
            ran = 0;
            rejected = 0;
            race.Sync(); // go
            race.Sync(); // every thread ran its probe or was rejected, and nobody has finished
            Assert.Equal(1, Volatile.Read(ref ran));
            Assert.Equal(Threads - 1, Volatile.Read(ref rejected));
            race.Sync();
            Assert.Equal(CircuitState.Closed, breaker.State);
        }

        race.Join();
    }
}
