using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Tripswitch.Controller;
using Xunit;

namespace Tripswitch.Tests.Controller;

public class CallCountersTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>
    /// The documented number of cell positions: the largest power of two not above the core count (3 cores: 2). Worked
    /// out here, not read from <see cref="CallCounters.CellPositions"/>, so that a bound on the slot count can fail: the
    /// array can hold no more cells than it has positions, but a cell written outside them (into the padding) would count.
    /// </summary>
    private static int PositionsOnThisMachine
    {
        get
        {
            int positions = 1;
            while (positions * 2 <= Environment.ProcessorCount)
            {
                positions *= 2;
            }

            return positions;
        }
    }

    [Fact]
    public void CellPositions_TheLargestPowerOfTwoNotAboveTheCoreCount()
    {
        Assert.Equal(PositionsOnThisMachine, CallCounters.CellPositions);
    }

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
            Add(counters, static s => ref s.Started);
        }

        Add(counters, static s => ref s.Successful);
        Add(counters, static s => ref s.Successful);
        Add(counters, static s => ref s.Failed);
        Add(counters, static s => ref s.Ignored);
        Add(counters, static s => ref s.Rejected);
        Add(counters, static s => ref s.Rejected);

        CounterSnapshot snapshot = counters.Read();
        Assert.Equal(new CounterSnapshot(10, 2, 1, 1, 2, 0, 0), snapshot);
        Assert.Equal(6, snapshot.InFlight); // rejected calls never started
    }

    [Fact]
    public void Current_UncontendedCircuitCalledByManyThreadsInTurn_OneSharedSlotOnly()
    {
        var counters = new CallCounters();
        for (int t = 0; t < 64; t++)
        {
            var thread = new Thread(() => Add(counters, static s => ref s.Started));
            thread.Start();
            thread.Join();
        }

        Assert.Equal(1, counters.SlotCount);
        Assert.False(counters.IsContended);
        Assert.True(counters.Current.IsShared);
        Assert.Equal(64, counters.Read().Started);
    }

    [Fact]
    public void Increment_ThreadsRacingOnTheSharedSlot_SwitchToCellsAndCountExactly()
    {
        // The real detection: increments that land on a value another thread moved in between. Racing threads collide
        // within milliseconds; the bound only stops a broken detection from hanging the test.
        var counters = new CallCounters();
        long made = MakeContended(counters, static s => ref s.Started);

        Assert.True(counters.IsContended);
        Assert.Equal(made, counters.Read().Started);
    }

    [Fact]
    public void Increment_OpenCircuitThatOnlyRejects_RacingRejectionsSwitchToCellsToo()
    {
        // An open circuit's callers never start a call: collisions on the rejection count must switch it too.
        var counters = new CallCounters();
        long made = MakeContended(counters, static s => ref s.Rejected);

        Assert.True(counters.IsContended);
        Assert.Equal(made, counters.Read().Rejected);
    }

    [Fact]
    public void OnCollision_BelowTheThreshold_StaysOnTheSharedSlot()
    {
        var counters = new CallCounters();
        for (int i = 0; i < CallCounters.ContendedThreshold - 1; i++)
        {
            counters.OnCollision();
        }

        Assert.False(counters.IsContended);
        counters.OnCollision();
        Assert.True(counters.IsContended);
    }

    [Fact]
    public void Current_ContendedCircuit_ThisThreadGetsACellAndKeepsIt()
    {
        var counters = Contended();

        CallCounters.Slot mine = counters.Current;

        Assert.False(mine.IsShared);
        Assert.Same(mine, counters.Current);
        Assert.Same(mine, counters.SlotFor(CallCounters.StackKey()));
    }

    [Fact]
    public void StackKey_TwoLiveThreads_DifferentKeys()
    {
        // Default thread stacks are more than a megabyte apart, so two live threads never share a key.
        nint mine = CallCounters.StackKey();
        nint other = 0;
        var thread = new Thread(() => other = CallCounters.StackKey());
        thread.Start();
        thread.Join();

        Assert.NotEqual(0, other);
        Assert.NotEqual(mine, other);
        Assert.Equal(mine, CallCounters.StackKey());
    }

    [Fact]
    public void Current_ContendedCircuitCalledByMoreThreadsThanCores_AtMostOneCellPerCore()
    {
        var counters = Contended();

        RunThreads(4 * Environment.ProcessorCount + 8, _ =>
        {
            for (int i = 0; i < 100; i++)
            {
                Add(counters, static s => ref s.Successful);
            }
        });

        Assert.InRange(counters.SlotCount, 2, 1 + PositionsOnThisMachine);
        Assert.Equal((4 * Environment.ProcessorCount + 8) * 100, counters.Read().Successful);
    }

    [Fact]
    public void Read_ThreadsThatEnded_KeepTheirCounts()
    {
        var counters = Contended();
        for (int t = 0; t < 51; t++)
        {
            var thread = new Thread(() => Add(counters, static s => ref s.Successful));
            thread.Start();
            thread.Join();
        }

        Assert.Equal(51, counters.Read().Successful);
        Assert.InRange(counters.SlotCount, 2, 1 + PositionsOnThisMachine);
    }

    [Fact]
    public void SlotFor_ClaimantThreadEnded_AnotherKeyTakesOverItsCellAndItsCounts()
    {
        var counters = Contended();
        int positions = CallCounters.CellPositions;
        var first = new CallCounters.Slot[positions];
        var ended = new Thread(() =>
        {
            // Keys 0 .. positions-1 fill every position, each claimed by this thread, which then ends.
            for (int key = 0; key < positions; key++)
            {
                first[key] = counters.SlotFor(key);
                first[key].Increment(ref first[key].Successful);
            }
        });
        ended.Start();
        ended.Join();

        CallCounters.Slot taken = counters.SlotFor(positions); // a new key at position 0: every position is claimed

        Assert.Contains(taken, first);
        Assert.False(taken.IsShared);
        Assert.Same(taken, counters.SlotFor(positions));
        taken.Increment(ref taken.Successful);
        Assert.Equal(positions + 1, counters.Read().Successful);
        Assert.Equal(1 + positions, counters.SlotCount);
    }

    [Fact]
    public void SlotFor_CellsTakenOverByALiveThread_RecordItsNewClaimantSoNoOtherKeyTakesThem()
    {
        // Found by mutation testing: a takeover must record the new (live) claimant, or the next key would take the cell
        // from a thread still using it.
        var counters = Contended();
        int positions = CallCounters.CellPositions;
        var ended = new Thread(() =>
        {
            for (int key = 0; key < positions; key++)
            {
                _ = counters.SlotFor(key); // every position claimed by a thread that then ends
            }
        });
        ended.Start();
        ended.Join();

        for (int key = positions; key < 2 * positions; key++)
        {
            Assert.False(counters.SlotFor(key).IsShared); // this live thread takes each position over
        }

        Assert.True(counters.SlotFor(2 * positions).IsShared);
    }

    [Fact]
    public void SlotFor_EveryPositionClaimedByALiveThread_AnotherKeyUsesTheSharedSlotAtOnce()
    {
        // Found by mutation testing on the earlier design: a key whose two positions are both held by live threads takes
        // the shared slot (it must not wait for a position to free up).
        var counters = Contended();
        int positions = CallCounters.CellPositions;
        for (int key = 0; key < positions; key++)
        {
            Assert.False(counters.SlotFor(key).IsShared); // claimed by this (live) thread
        }

        CallCounters.Slot? seen = null;
        var late = new Thread(() => seen = counters.SlotFor(positions)) { IsBackground = true };
        late.Start();

        Assert.True(late.Join(TimeSpan.FromSeconds(30)), "A key that finds every position taken must not wait for one.");
        Assert.NotNull(seen);
        Assert.True(seen.IsShared);
    }

    [Fact]
    public void Read_ShortLivedThreadsTakingOverEndedThreadsCells_ExactEveryRound()
    {
        const int Rounds = 60;
        int threads = Math.Max(3, Environment.ProcessorCount + 1);
        const int PerThread = 2_000;
        var counters = Contended();
        for (int round = 0; round < Rounds; round++)
        {
            RunThreads(threads, _ =>
            {
                for (int i = 0; i < PerThread; i++)
                {
                    Add(counters, static s => ref s.Started);
                    Add(counters, static s => ref s.Successful);
                }
            });

            CounterSnapshot snapshot = counters.Read();
            long expected = (long)(round + 1) * threads * PerThread;
            Assert.Equal(expected, snapshot.Started);
            Assert.Equal(expected, snapshot.Successful);
            Assert.InRange(counters.SlotCount, 2, 1 + PositionsOnThisMachine);
        }
    }

    /// <summary>
    /// The counters every closed call writes must not share a cache line with the object before the slot: they start at
    /// least 48 bytes after the first field (64 bytes after the end of the previous object, header and method table
    /// in between).
    /// </summary>
    [Fact]
    public void Slot_Layout_HotCountersStartAtLeast64BytesAfterThePreviousObject()
    {
        var counters = new CallCounters();
        CallCounters.Slot slot = counters.Current;
        long first = Offset(slot, ref Unsafe.As<Tripswitch.Controller.CircuitStateMachine?, byte>(ref Unsafe.AsRef(in slot.Machine)));
        Assert.Equal(0, first);
        Assert.True(Offset(slot, ref Unsafe.As<long, byte>(ref slot.Started)) >= 48);
        Assert.True(Offset(slot, ref Unsafe.As<long, byte>(ref slot.Successful)) >= 48);

        // StrongBox<byte>'s one field sits where any object's first field does.
        static long Offset(object o, ref byte field) => (long)Unsafe.ByteOffset(ref Unsafe.As<StrongBox<byte>>(o).Value, ref field);
    }

    /// <summary>
    /// Many rounds of fresh counters, each raced (and so, usually, switched to cells part-way) by more threads than cores. Half the
    /// calls report their outcome on another thread than the one that started them (as an async continuation does),
    /// so starts and outcomes land in different slots. A reader checks while they run that no count ever goes down and
    /// in-flight is never negative; at the end every sum is exactly what was reported.
    /// </summary>
    [Fact]
    public void Read_ThreadsRacingThroughTheSwitchToCellsWithOutcomesOnOtherThreads_ExactAndInFlightNeverNegative()
    {
        const int Rounds = 40;
        int writers = Math.Max(4, 2 * Environment.ProcessorCount);
        const int perThread = 3_000;

        for (int round = 0; round < Rounds; round++)
        {
            var counters = new CallCounters();
            var handoff = new BlockingCollection<int>();
            var problems = new ConcurrentQueue<string>();
            using var done = new CancellationTokenSource();
            var reader = new Thread(() => WatchCounters(counters, problems, done.Token)) { IsBackground = true };
            var finisher = new Thread(() =>
            {
                // Completes the handed-off calls: their starts were counted in the starting threads' slots.
                foreach (int kind in handoff.GetConsumingEnumerable(Ct))
                {
                    AddOutcome(counters, kind);
                }
            }) { IsBackground = true };
            reader.Start();
            finisher.Start();

            RunThreads(writers, t =>
            {
                for (int i = 0; i < perThread; i++)
                {
                    Add(counters, static s => ref s.Started);
                    int kind = (i + t) % 3;
                    if (i % 2 == 0)
                    {
                        handoff.Add(kind, Ct);
                    }
                    else
                    {
                        AddOutcome(counters, kind);
                    }

                    if (i % 8 == 0)
                    {
                        Add(counters, static s => ref s.Rejected);
                    }
                }
            });
            handoff.CompleteAdding();
            finisher.Join();
            done.Cancel();
            reader.Join();
            handoff.Dispose();

            Assert.Empty(problems);
            CounterSnapshot snapshot = counters.Read();
            long ExpectedOf(int kind) => Enumerable.Range(0, writers).Sum(t => Enumerable.Range(0, perThread).LongCount(i => (i + t) % 3 == kind));
            Assert.Equal((long)writers * perThread, snapshot.Started);
            Assert.Equal(ExpectedOf(0), snapshot.Successful);
            Assert.Equal(ExpectedOf(1), snapshot.Failed);
            Assert.Equal(ExpectedOf(2), snapshot.Ignored);
            Assert.Equal(writers * ((perThread + 7) / 8), snapshot.Rejected);
            Assert.Equal(0, snapshot.InFlight);
            Assert.InRange(counters.SlotCount, 1, 1 + Environment.ProcessorCount);
        }
    }

    [Fact]
    public void ReadWindow_ThreadsRacingThroughTheSwitchToCells_SumsExact()
    {
        const int Rounds = 20;
        int writers = Math.Max(4, 2 * Environment.ProcessorCount);
        const int perThread = 2_000;
        for (int round = 0; round < Rounds; round++)
        {
            var counters = new CallCounters();
            RunThreads(writers, t =>
            {
                for (int i = 0; i < perThread; i++)
                {
                    Add(counters, static s => ref s.Started); // racing: switches the circuit to cells part-way through
                    Add(counters, static s => ref s.WindowTotal);
                    if ((i + t) % 4 == 0)
                    {
                        Add(counters, static s => ref s.WindowFailures);
                    }

                    if ((i + t) % 5 == 0)
                    {
                        Add(counters, static s => ref s.WindowSlow);
                    }
                }
            });

            WindowCounts window = counters.ReadWindow();
            Assert.Equal((long)writers * perThread, window.Total);
            Assert.Equal(Enumerable.Range(0, writers).Sum(t => Enumerable.Range(0, perThread).LongCount(i => (i + t) % 4 == 0)), window.Failures);
            Assert.Equal(Enumerable.Range(0, writers).Sum(t => Enumerable.Range(0, perThread).LongCount(i => (i + t) % 5 == 0)), window.Slow);
        }
    }

    /// <summary>
    /// The same race through a real breaker: threads acquire permits, report half of them themselves and hand the
    /// other half to a thread that reports them (as an async continuation on another thread does), for many rounds of
    /// a fresh breaker (racing callers switch each to cells part-way). Failures never reach the threshold (every thread's
    /// successes reset the count), so every call is let through; the summary must match what was reported exactly.
    /// </summary>
    [Fact]
    public void Breaker_PermitsReportedOnOtherThreadsAcrossTheHotSwitch_SummaryExact()
    {
        const int Rounds = 20;
        int callers = Math.Max(4, 2 * Environment.ProcessorCount);
        const int perThread = 2_000;
        for (int round = 0; round < Rounds; round++)
        {
            var breaker = new CircuitBreaker(new CircuitBreakerOptions { Name = "race", FailureThreshold = 1_000_000 });
            var handoff = new BlockingCollection<(CircuitPermit Permit, bool Fail)>();
            var finisher = new Thread(() =>
            {
                foreach ((CircuitPermit permit, bool fail) in handoff.GetConsumingEnumerable(Ct))
                {
                    Report(permit, fail);
                }
            }) { IsBackground = true };
            finisher.Start();

            RunThreads(callers, t =>
            {
                for (int i = 0; i < perThread; i++)
                {
                    CircuitPermit permit = breaker.AcquirePermit();
                    bool fail = (i + t) % 4 == 0;
                    if (i % 2 == 0)
                    {
                        handoff.Add((permit, fail), Ct);
                    }
                    else
                    {
                        Report(permit, fail);
                    }
                }
            });
            handoff.CompleteAdding();
            finisher.Join();
            handoff.Dispose();

            CircuitSummary summary = breaker.GetSummary();
            long failures = Enumerable.Range(0, callers).Sum(t => Enumerable.Range(0, perThread).LongCount(i => (i + t) % 4 == 0));
            Assert.Equal(CircuitState.Closed, summary.State);
            Assert.Equal((long)callers * perThread, summary.TotalCalls);
            Assert.Equal(failures, summary.Failed);
            Assert.Equal(((long)callers * perThread) - failures, summary.Successful);
            Assert.Equal(0, breaker.Machine.Counts.InFlight);
        }

        static void Report(CircuitPermit permit, bool fail)
        {
            if (fail)
            {
                permit.RecordFailure();
            }
            else
            {
                permit.RecordSuccess();
            }
        }
    }

    private delegate ref long Field(CallCounters.Slot slot);

    private static void Add(CallCounters counters, Field field)
    {
        CallCounters.Slot slot = counters.Current;
        slot.Increment(ref field(slot));
    }

    private static void AddOutcome(CallCounters counters, int kind)
    {
        switch (kind)
        {
            case 0:
                Add(counters, static s => ref s.Successful);
                break;
            case 1:
                Add(counters, static s => ref s.Failed);
                break;
            default:
                Add(counters, static s => ref s.Ignored);
                break;
        }
    }

    /// <summary>Counters switched to cells the way the threshold does it (the racing tests cover the real collisions).</summary>
    private static CallCounters Contended()
    {
        var counters = new CallCounters();
        for (int i = 0; i < CallCounters.ContendedThreshold; i++)
        {
            counters.OnCollision();
        }

        Assert.True(counters.IsContended);
        return counters;
    }

    /// <summary>Races threads incrementing <paramref name="field"/> until the counters switch to cells; returns how many increments were made.</summary>
    private static long MakeContended(CallCounters counters, Field field)
    {
        int threads = Math.Max(2, Environment.ProcessorCount);
        long made = 0;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        RunThreads(threads, _ =>
        {
            long mine = 0;
            while (!counters.IsContended && DateTime.UtcNow < deadline)
            {
                for (int i = 0; i < 1_000; i++)
                {
                    Add(counters, field);
                    mine++;
                }
            }

            Interlocked.Add(ref made, mine);
        });
        return made;
    }

    private static void WatchCounters(CallCounters counters, ConcurrentQueue<string> problems, CancellationToken done)
    {
        CounterSnapshot last = default;
        while (!done.IsCancellationRequested)
        {
            CounterSnapshot now = counters.Read();
            if (now.InFlight < 0)
            {
                problems.Enqueue($"in flight {now.InFlight} in {now}");
            }

            if (now.Started < last.Started || now.Successful < last.Successful || now.Failed < last.Failed
                || now.Ignored < last.Ignored || now.Rejected < last.Rejected)
            {
                problems.Enqueue($"a count went down: {last} then {now}");
            }

            last = now;
        }
    }

    private static void RunThreads(int count, Action<int> body)
    {
        var failures = new ConcurrentQueue<Exception>();
        using var start = new ManualResetEventSlim();
        var threads = Enumerable.Range(0, count).Select(i => new Thread(() =>
        {
            try
            {
                start.Wait(Ct);
                body(i);
            }
            catch (Exception ex)
            {
                failures.Enqueue(ex);
            }
        })
        {
            IsBackground = true,
        }).ToList();
        threads.ForEach(t => t.Start());
        start.Set();
        threads.ForEach(t => t.Join());
        Assert.Empty(failures);
    }
}
