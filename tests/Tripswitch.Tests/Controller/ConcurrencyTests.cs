using System.Collections.Concurrent;
using Microsoft.Extensions.Time.Testing;
using Tripswitch.Testing;
using Xunit;

namespace Tripswitch.Tests.Controller;

/// <summary>Concurrency claims, tested with real threads released together, many rounds (the kit's <see cref="ThreadRace"/>: a thread that throws fails the test, a stuck one times out).</summary>
public class ConcurrencyTests
{
    private static readonly TimeSpan _recovery = TimeSpan.FromSeconds(1);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly HashSet<(CircuitState, CircuitState)> _legalWithoutManualControl =
    [
        (CircuitState.Closed, CircuitState.Open),
        (CircuitState.Open, CircuitState.HalfOpen),
        (CircuitState.HalfOpen, CircuitState.Closed),
        (CircuitState.HalfOpen, CircuitState.Open),
    ];

    private static void AssertChained(IReadOnlyList<CircuitTransition> transitions)
    {
        for (int i = 1; i < transitions.Count; i++)
        {
            Assert.True(
                transitions[i - 1].To == transitions[i].From,
                $"transition #{i} ({transitions[i].From}→{transitions[i].To}) does not follow #{i - 1} ({transitions[i - 1].From}→{transitions[i - 1].To})");
        }
    }

    // ---- half-open: exactly HalfOpenMaxCalls probes ----

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    public void Execute_SixteenThreadsRaceAHalfOpenCircuit_ExactlyHalfOpenMaxCallsCallbacksRun(int maxProbes)
    {
        const int Threads = 16;
        const int Rounds = 200;
        var time = new FakeTimeProvider();
        var breaker = TestBreakers.Create(time, o =>
        {
            o.FailureThreshold = 1;
            o.HalfOpenMaxCalls = maxProbes;
            o.SuccessThreshold = maxProbes;
            o.RecoveryTimeout = _recovery;
        });
        var recorder = new TransitionRecorder(breaker);
        using var race = new ThreadRace(Threads);
        using var allTried = new ManualResetEventSlim();
        int tried = 0, ran = 0, rejected = 0;
        var problems = new ConcurrentQueue<string>();

        void TryOnce()
        {
            try
            {
                breaker.Execute(() =>
                {
                    Interlocked.Increment(ref ran);
                    if (Interlocked.Increment(ref tried) == Threads)
                    {
                        allTried.Set();
                    }

                    allTried.Wait(race.Token); // hold the probe until every thread has tried
                });
            }
            catch (Exception ex)
            {
                // Every thread must count as having tried, or the probes would wait forever.
                if (ex is CircuitOpenException rejection)
                {
                    Interlocked.Increment(ref rejected);
                    if (rejection.State != CircuitState.HalfOpen || rejection.RetryAfter != TimeSpan.Zero)
                    {
                        problems.Enqueue($"rejected with {rejection.State}, retry after {rejection.RetryAfter}");
                    }
                }
                else
                {
                    problems.Enqueue($"unexpected {ex}");
                }

                if (Interlocked.Increment(ref tried) == Threads)
                {
                    allTried.Set();
                }
            }
        }

        race.Start(worker =>
        {
            for (int r = 0; r < Rounds; r++)
            {
                race.Sync();
                TryOnce();
                race.Sync();
            }
        });

        // The main thread records problems instead of asserting mid-run, so that the workers are never left waiting.
        (CircuitState, CircuitState)[] racedTransition = [(CircuitState.HalfOpen, CircuitState.Closed)];
        (CircuitState, CircuitState)[] racedBothTransitions = [(CircuitState.Open, CircuitState.HalfOpen), (CircuitState.HalfOpen, CircuitState.Closed)];
        for (int r = 0; r < Rounds; r++)
        {
            tried = ran = rejected = 0;
            allTried.Reset();
            breaker.Reset(); // no-op when the previous round closed it, as it should
            TestBreakers.Fail(breaker); // trip
            time.Advance(_recovery);
            if (r % 2 == 0 && breaker.State != CircuitState.HalfOpen) // half-open before the race
            {
                problems.Enqueue($"round {r}: not half-open before the race");
            }

            // Odd rounds: still "open" until a racer notices the period is over, so the racers also race that transition.
            int transitionsBefore = recorder.Transitions.Count;

            race.Sync(); // release all threads together
            race.Sync(); // wait until all are done

            if (ran != maxProbes || rejected != Threads - maxProbes)
            {
                problems.Enqueue($"round {r}: {ran} callbacks ran and {rejected} were rejected, expected {maxProbes} and {Threads - maxProbes}");
            }

            if (breaker.State != CircuitState.Closed) // maxProbes successes of maxProbes
            {
                problems.Enqueue($"round {r}: {breaker.State} after the probes succeeded");
            }

            if (!recorder.Pairs.Skip(transitionsBefore).SequenceEqual(r % 2 == 0 ? racedTransition : racedBothTransitions))
            {
                problems.Enqueue($"round {r}: transitions {string.Join(", ", recorder.Pairs.Skip(transitionsBefore))}");
            }
        }

        race.Join();
        Assert.Empty(problems);
        CircuitSummary summary = breaker.GetSummary();
        Assert.Equal(Rounds * maxProbes, summary.Successful);
        Assert.Equal(Rounds * (Threads - maxProbes), summary.Rejected);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    public async Task ExecuteAsync_SixteenThreadsRaceAHalfOpenCircuit_ExactlyHalfOpenMaxCallsCallbacksRun(int maxProbes)
    {
        const int Threads = 16;
        const int Rounds = 100;
        var time = new FakeTimeProvider();
        var breaker = TestBreakers.Create(time, o =>
        {
            o.FailureThreshold = 1;
            o.HalfOpenMaxCalls = maxProbes;
            o.SuccessThreshold = maxProbes;
            o.RecoveryTimeout = _recovery;
        });
        using var race = new ThreadRace(Threads);
        var calls = new Task[Threads];
        int tried = 0, ran = 0;
        var allTried = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var problems = new ConcurrentQueue<string>();

        race.Start(t =>
        {
            for (int r = 0; r < Rounds; r++)
            {
                race.Sync();
                TaskCompletionSource gate = Volatile.Read(ref allTried);
                ValueTask call = breaker.ExecuteAsync(
                    async _ =>
                    {
                        Interlocked.Increment(ref ran);
                        if (Interlocked.Increment(ref tried) == Threads)
                        {
                            gate.SetResult();
                        }

                        await gate.Task.WaitAsync(Ct);
                    },
                    Ct);
                Task task = call.AsTask();
                if (task.IsFaulted && Interlocked.Increment(ref tried) == Threads)
                {
                    gate.SetResult(); // a rejection: the returned task is already faulted
                }

                calls[t] = task;
                race.Sync();
            }
        });

        for (int r = 0; r < Rounds; r++)
        {
            tried = ran = 0;
            Volatile.Write(ref allTried, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
            TestBreakers.Fail(breaker);
            time.Advance(_recovery);

            race.Sync();
            race.Sync();

            int rejected = 0;
            foreach (Task call in calls)
            {
                try
                {
                    await call;
                }
                catch (CircuitOpenException ex) when (ex.State == CircuitState.HalfOpen && ex.RetryAfter == TimeSpan.Zero)
                {
                    rejected++;
                }
                catch (Exception ex)
                {
                    problems.Enqueue($"round {r}: unexpected {ex}");
                }
            }

            if (ran != maxProbes || rejected != Threads - maxProbes)
            {
                problems.Enqueue($"round {r}: {ran} callbacks ran and {rejected} were rejected, expected {maxProbes} and {Threads - maxProbes}");
            }

            if (breaker.State != CircuitState.Closed)
            {
                problems.Enqueue($"round {r}: {breaker.State} after the probes succeeded");
                breaker.Reset();
            }
        }

        race.Join();
        Assert.Empty(problems);
    }

    // ---- closed: concurrent failures trip exactly once ----

    [Fact]
    public void RecordFailure_SixteenThreadsFailTogether_TripsExactlyOncePerRound()
    {
        const int Threads = 16;
        const int Rounds = 200;
        var time = new FakeTimeProvider();
        var breaker = TestBreakers.Create(time, o => { o.FailureThreshold = 4; o.RecoveryTimeout = _recovery; });
        var recorder = new TransitionRecorder(breaker);
        using var race = new ThreadRace(Threads);

        race.Start(worker =>
        {
            for (int r = 0; r < Rounds; r++)
            {
                race.Sync(); // the main thread has reset the circuit
                bool granted = breaker.TryAcquirePermit(out CircuitPermit permit, out _);
                race.Sync(); // everyone holds a closed-state permit
                if (granted)
                {
                    permit.RecordFailure(); // all at once
                }

                race.Sync();
            }
        });

        var problems = new List<string>();
        for (int r = 0; r < Rounds; r++)
        {
            breaker.Reset();
            race.Sync();
            race.Sync();
            race.Sync();
            int trips = recorder.Transitions.Count(t => t.To == CircuitState.Open);
            if (breaker.State != CircuitState.Open || trips != r + 1)
            {
                problems.Add($"round {r}: {breaker.State} after {trips} trips in all");
            }
        }

        race.Join();
        Assert.Empty(problems);
        Assert.Equal(Rounds * Threads, breaker.GetSummary().Failed);
        Assert.Equal((2 * Rounds) - 1, recorder.Transitions.Count); // a trip per round, a reset between rounds
        AssertChained(recorder.Transitions);
    }

    // ---- closed: a success always resets the count, even racing failures ----

    [Fact]
    public void RecordSuccess_RacingAnotherThreadsFailures_AlwaysResetsTheConsecutiveCount()
    {
        // One thread reports failures non-stop; this one reports successes. Right after a success, the count may only
        // include failures that could have landed after it: those started since the success began, plus the one
        // failure that may have been in flight. A success whose reset is lost leaves older failures in the count,
        // and the circuit trips on fewer than FailureThreshold consecutive failures.
        const int Successes = 2_000_000;
        var time = new FakeTimeProvider();
        var breaker = TestBreakers.Create(time, o => o.FailureThreshold = 1_000_000);
        long failuresStarted = 0;
        int stop = 0;
        using var race = new ThreadRace(1); // the failing thread, racing this one
        race.Start(worker =>
        {
            race.Sync();
            while (Volatile.Read(ref stop) == 0)
            {
                if (breaker.TryAcquirePermit(out CircuitPermit permit, out _))
                {
                    Interlocked.Increment(ref failuresStarted);
                    permit.RecordFailure();
                }
            }
        });

        int lost = 0;
        string? example = null;
        try
        {
            race.Sync();
            for (int i = 0; i < Successes && lost == 0; i++)
            {
                long before = Volatile.Read(ref failuresStarted);
                if (!breaker.TryAcquirePermit(out CircuitPermit permit, out _))
                {
                    breaker.Reset(); // a million failures while this thread was descheduled: start over
                    continue;
                }

                permit.RecordSuccess();
                int count = breaker.GetSummary().ConsecutiveFailures;
                long after = Volatile.Read(ref failuresStarted);
                if (count > after - before + 1)
                {
                    lost++;
                    example = $"success #{i}: count {count} right after it, but only {after - before} failures started meanwhile";
                }
            }
        }
        finally
        {
            Volatile.Write(ref stop, 1);
            race.Join();
        }

        Assert.True(lost == 0, $"a success did not reset the count: {example}");
    }

    // ---- stress: a million calls, counters exact, transitions legal ----

    [Fact]
    public void Execute_MillionRandomCallsOnTwoThreadsWhileTimeAdvances_CountersExactAndTransitionsLegal()
    {
        const int Threads = 2;
        const int CallsPerThread = 500_000;
        var time = new FakeTimeProvider();
        var breaker = TestBreakers.Create(time, o =>
        {
            o.FailureThreshold = 3;
            o.SuccessThreshold = 2;
            o.HalfOpenMaxCalls = 2;
            o.RecoveryTimeout = TimeSpan.FromMilliseconds(5);
            o.ShouldHandle = TestBreakers.IgnoreNotHandled;
        });
        var transitions = new List<CircuitTransition>();
        var sync = new Lock();
        breaker.StateChanged += (_, t) =>
        {
            lock (sync)
            {
                transitions.Add(t);
            }
        };

        // Per thread: successes, failures, ignored, rejected, as each call observed them.
        var tallies = new long[Threads, 4];
        int running = Threads;
        ThreadRace.Run(Threads + 1, t =>
        {
            if (t == Threads)
            {
                // One more thread is the clock, advancing while the callers run.
                while (Volatile.Read(ref running) > 0)
                {
                    time.Advance(TimeSpan.FromMilliseconds(1));
                    Thread.Yield();
                }

                return;
            }

            var random = new Random(20_240_601 + t);
            long successes = 0, failures = 0, ignored = 0, rejected = 0;
            try
            {
                for (int i = 0; i < CallsPerThread; i++)
                {
                    double roll = random.NextDouble();
                    if (roll < 0.3)
                    {
                        // Through Execute: the callback's outcome is drawn up front.
                        double outcome = random.NextDouble();
                        try
                        {
                            breaker.Execute(() =>
                            {
                                if (outcome < 0.3)
                                {
                                    throw new TestFailureException();
                                }

                                if (outcome < 0.4)
                                {
                                    throw new NotHandledException();
                                }
                            });
                            successes++;
                        }
                        catch (TestFailureException)
                        {
                            failures++;
                        }
                        catch (NotHandledException)
                        {
                            ignored++;
                        }
                        catch (CircuitOpenException)
                        {
                            rejected++;
                        }
                    }
                    else if (breaker.TryAcquirePermit(out CircuitPermit permit, out TimeSpan retryAfter))
                    {
                        double outcome = random.NextDouble();
                        if (outcome < 0.3)
                        {
                            permit.RecordFailure();
                            failures++;
                        }
                        else if (outcome < 0.35)
                        {
                            permit.RecordIgnored();
                            ignored++;
                        }
                        else
                        {
                            permit.RecordSuccess();
                            successes++;
                        }
                    }
                    else
                    {
                        Assert.True(retryAfter >= TimeSpan.Zero);
                        rejected++;
                    }
                }
            }
            finally
            {
                Interlocked.Decrement(ref running);
            }

            tallies[t, 0] = successes;
            tallies[t, 1] = failures;
            tallies[t, 2] = ignored;
            tallies[t, 3] = rejected;
        });

        CircuitSummary summary = breaker.GetSummary();
        long Sum(int kind) => Enumerable.Range(0, Threads).Sum(t => tallies[t, kind]);
        Assert.Equal((long)Threads * CallsPerThread, summary.TotalCalls);
        Assert.Equal(Sum(0), summary.Successful);
        Assert.Equal(Sum(1), summary.Failed);
        Assert.Equal(Sum(2), summary.Ignored);
        Assert.Equal(Sum(3), summary.Rejected);
        Assert.Equal(0, breaker.Machine.Counts.InFlight);

        List<CircuitTransition> all;
        lock (sync)
        {
            all = [.. transitions];
        }

        Assert.NotEmpty(all);
        Assert.Equal(CircuitState.Closed, all[0].From);
        Assert.All(all, t => Assert.Contains((t.From, t.To), _legalWithoutManualControl));
        AssertChained(all);
        Assert.Equal(summary.State, all[^1].To);
        for (int i = 1; i < all.Count; i++)
        {
            Assert.True(all[i - 1].At <= all[i].At, $"transition #{i} is timed before #{i - 1}");
        }

        // The log keeps the last 64, the same ones the handler saw last, in the same order.
        Assert.Equal(all.TakeLast(64), summary.Transitions);

        // The run really cycled through every transition many times.
        foreach ((CircuitState, CircuitState) kind in _legalWithoutManualControl)
        {
            Assert.True(all.Count(t => (t.From, t.To) == kind) >= 10, $"only {all.Count(t => (t.From, t.To) == kind)} of {kind}");
        }
    }

    // ---- StateChanged: order under concurrent transitions ----

    [Fact]
    public void StateChanged_ManyThreadsCausingTransitions_DeliveredOnceEachInTheOrderTheyHappened()
    {
        const int Threads = 4;
        const int OpsPerThread = 25_000;
        var time = new FakeTimeProvider();
        var breaker = TestBreakers.Create(time, o => { o.FailureThreshold = 2; o.RecoveryTimeout = _recovery; });
        var delivered = new List<CircuitTransition>();
        var sync = new Lock();
        int concurrentHandlers = 0, overlaps = 0;
        breaker.StateChanged += (_, t) =>
        {
            if (Interlocked.Increment(ref concurrentHandlers) > 1)
            {
                Interlocked.Increment(ref overlaps);
            }

            lock (sync)
            {
                delivered.Add(t);
            }

            Interlocked.Decrement(ref concurrentHandlers);
        };
        ThreadRace.Run(Threads, t =>
        {
            var random = new Random(7 + t);
            for (int i = 0; i < OpsPerThread; i++)
            {
                switch (random.Next(4))
                {
                    case 0:
                        breaker.Isolate();
                        break;
                    case 1:
                        breaker.Reset();
                        break;
                    default:
                        if (breaker.TryAcquirePermit(out CircuitPermit permit, out _))
                        {
                            permit.RecordFailure();
                        }

                        break;
                }
            }
        });

        List<CircuitTransition> all;
        lock (sync)
        {
            all = [.. delivered];
        }

        Assert.Equal(0, overlaps); // one handler call at a time
        Assert.True(all.Count > 100, $"only {all.Count} transitions");
        Assert.Equal(CircuitState.Closed, all[0].From);
        AssertChained(all);
        Assert.Equal(breaker.State, all[^1].To);
        Assert.Equal(all.TakeLast(64), breaker.GetSummary().Transitions);
    }

    // ---- summary taken while calls run: never inconsistent ----

    [Fact]
    public void GetSummary_WhileThreadsCall_TotalNeverDecreasesAndSuccessRateStaysInRange()
    {
        const int Threads = 2;
        const int CallsPerThread = 200_000;
        var time = new FakeTimeProvider();
        var breaker = TestBreakers.Create(time, o => o.FailureThreshold = 1_000_000);
        int running = Threads;
        var problems = new ConcurrentQueue<string>();
        void Read()
        {
            long last = 0;
            while (Volatile.Read(ref running) > 0)
            {
                CircuitSummary s = breaker.GetSummary();
                if (s.TotalCalls < last)
                {
                    problems.Enqueue($"total went from {last} to {s.TotalCalls}");
                }

                if (s.SuccessRate is < 0 or > 1)
                {
                    problems.Enqueue($"success rate {s.SuccessRate}");
                }

                if (breaker.Machine.Counts.InFlight < 0)
                {
                    problems.Enqueue($"in flight {breaker.Machine.Counts.InFlight}");
                }

                last = s.TotalCalls;
            }
        }

        ThreadRace.Run(Threads + 1, t =>
        {
            if (t == Threads)
            {
                Read(); // one more thread reads summaries while the callers run
                return;
            }

            try
            {
                for (int i = 0; i < CallsPerThread; i++)
                {
                    CircuitPermit permit = breaker.AcquirePermit();
                    if ((i & 1) == 0)
                    {
                        permit.RecordSuccess();
                    }
                    else
                    {
                        permit.RecordFailure();
                    }
                }
            }
            finally
            {
                Interlocked.Decrement(ref running);
            }
        });

        Assert.Empty(problems);
        Assert.Equal(Threads * CallsPerThread, breaker.GetSummary().TotalCalls);
        Assert.Equal(0.5, breaker.GetSummary().SuccessRate);
    }
}
