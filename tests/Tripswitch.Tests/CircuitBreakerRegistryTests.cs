using System.Collections.Concurrent;
using Microsoft.Extensions.Time.Testing;
using Tripswitch.Testing;
using Xunit;

namespace Tripswitch.Tests;

public class CircuitBreakerRegistryTests
{
    private static readonly TimeSpan _recovery = TimeSpan.FromSeconds(30);

    private readonly FakeTimeProvider _time = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private CircuitBreakerOptions Defaults(int failureThreshold = 2) => new()
    {
        FailureThreshold = failureThreshold,
        RecoveryTimeout = _recovery,
        TimeProvider = _time,
    };

    private CircuitBreakerRegistry CreateBounded(int capacity)
        => new(new CircuitBreakerRegistryOptions { Defaults = Defaults(failureThreshold: 1), Capacity = capacity });

    private static string Key(int i) => $"k{i}";

    // ---- Get / TryGet / Count / Status ----

    [Fact]
    public void Get_FirstUse_CreatesABreakerNamedAfterTheKey()
    {
        var registry = new CircuitBreakerRegistry(Defaults());
        Assert.Equal(0, registry.Count);
        Assert.False(registry.TryGet("openai/gpt-4.1", out _));

        CircuitBreaker breaker = registry.Get("openai/gpt-4.1");

        Assert.Equal("openai/gpt-4.1", breaker.Name);
        Assert.Equal(1, registry.Count);
        Assert.True(registry.TryGet("openai/gpt-4.1", out CircuitBreaker? found));
        Assert.Same(breaker, found);
    }

    [Fact]
    public void Get_SameKeyTwice_ReturnsTheSameInstance()
    {
        var registry = new CircuitBreakerRegistry(Defaults());

        CircuitBreaker first = registry.Get("a");
        CircuitBreaker second = registry.Get("a");

        Assert.Same(first, second);
        Assert.Equal(1, registry.Count);
    }

    [Fact]
    public void Get_KeysAreCaseSensitive()
    {
        var registry = new CircuitBreakerRegistry(Defaults());

        Assert.NotSame(registry.Get("Model"), registry.Get("model"));
        Assert.Equal(2, registry.Count);
    }

    [Fact]
    public void Get_InvalidKey_Throws()
    {
        var registry = new CircuitBreakerRegistry(Defaults());

        Assert.Throws<ArgumentNullException>(() => registry.Get(null!));
        Assert.Throws<ArgumentException>(() => registry.Get(string.Empty));
        Assert.Throws<ArgumentException>(() => registry.Get("  "));
        Assert.Throws<ArgumentNullException>(() => registry.TryGet(null!, out _));
        Assert.Equal(0, registry.Count);
    }

    [Fact]
    public void Get_BreakersAreIndependentPerKey()
    {
        var registry = new CircuitBreakerRegistry(Defaults(failureThreshold: 1));

        TestBreakers.Fail(registry.Get("down"));

        Assert.Equal(CircuitState.Open, registry.Get("down").State);
        Assert.Equal(CircuitState.Closed, registry.Get("up").State);
        Assert.Equal(1, registry.Execute("up", () => 1));
    }

    [Fact]
    public void Ctor_NullDefaults_UsesCircuitBreakerOptionsDefaults()
    {
        var registry = new CircuitBreakerRegistry();
        CircuitBreaker breaker = registry.Get("x");

        TestBreakers.Fail(breaker, 4);
        Assert.Equal(CircuitState.Closed, breaker.State);
        TestBreakers.Fail(breaker);
        Assert.Equal(CircuitState.Open, breaker.State);
    }

    [Fact]
    public void Ctor_Defaults_AreCopiedAndAppliedToEveryBreaker()
    {
        CircuitBreakerOptions defaults = Defaults(failureThreshold: 2);
        defaults.Name = "ignored";
        var registry = new CircuitBreakerRegistry(defaults);
        defaults.FailureThreshold = 100; // after construction: no effect

        CircuitBreaker breaker = registry.Get("svc");
        TestBreakers.Fail(breaker, 2);

        Assert.Equal("svc", breaker.Name);
        Assert.Equal(CircuitState.Open, breaker.State);
        Assert.Equal("ignored", defaults.Name); // the caller's object is not modified
        _time.Advance(_recovery);
        Assert.Equal(CircuitState.HalfOpen, breaker.State); // the defaults' clock and recovery timeout
    }

    [Fact]
    public void Ctor_InvalidDefaults_ThrowsNamingTheOption()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new CircuitBreakerRegistry(new CircuitBreakerOptions { FailureThreshold = 0 }));

        Assert.Equal("FailureThreshold", ex.ParamName);
        Assert.Contains("CircuitBreakerOptions.FailureThreshold must be between 1 and 1000000; it was 0.", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Ctor_PerKeyOverride_AppliesToThatKeyOnlyAndKeepsTheKeyAsName()
    {
        var options = new CircuitBreakerRegistryOptions { Defaults = Defaults(failureThreshold: 5) }
            .Configure("openai/gpt-4.1", o =>
            {
                o.FailureThreshold = 1;
                o.Name = "something else";
            });
        var registry = new CircuitBreakerRegistry(options);

        CircuitBreaker overridden = registry.Get("openai/gpt-4.1");
        CircuitBreaker other = registry.Get("openai/gpt-4.1-mini");
        TestBreakers.Fail(overridden);
        TestBreakers.Fail(other);

        Assert.Equal("openai/gpt-4.1", overridden.Name);
        Assert.Equal(CircuitState.Open, overridden.State);
        Assert.Equal(CircuitState.Closed, other.State);
        _time.Advance(_recovery); // the override starts from the defaults: same clock and recovery timeout
        Assert.Equal(CircuitState.HalfOpen, overridden.State);
    }

    [Fact]
    public void Ctor_PerKeyOverrideConfiguredTwice_AppliesBoth()
    {
        var options = new CircuitBreakerRegistryOptions { Defaults = Defaults(failureThreshold: 5) }
            .Configure("k", o => o.FailureThreshold = 2)
            .Configure("k", o => o.RecoveryTimeout = TimeSpan.FromSeconds(5));
        var registry = new CircuitBreakerRegistry(options);

        CircuitBreaker breaker = registry.Get("k");
        TestBreakers.Fail(breaker, 2);

        Assert.Equal(CircuitState.Open, breaker.State);
        Assert.Equal(TimeSpan.FromSeconds(5), breaker.GetSummary().RetryAfter);
    }

    [Fact]
    public void Ctor_InvalidPerKeyOverride_IsRefusedAtConstructionNamingTheCircuitAndOption()
    {
        var options = new CircuitBreakerRegistryOptions { Defaults = Defaults() }
            .Configure("openai/gpt-4.1", o => o.FailureThreshold = 0);

        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new CircuitBreakerRegistry(options));

        Assert.Equal("FailureThreshold", ex.ParamName);
        Assert.StartsWith("Circuit 'openai/gpt-4.1': CircuitBreakerOptions.FailureThreshold must be between 1 and 1000000; it was 0.", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Ctor_InvalidPerKeyRecoveryTimeout_IsRefusedNamingTheCircuit()
    {
        var options = new CircuitBreakerRegistryOptions { Defaults = Defaults() }
            .Configure("slow", o => o.RecoveryTimeout = TimeSpan.FromDays(2));

        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new CircuitBreakerRegistry(options));

        Assert.Equal("RecoveryTimeout", ex.ParamName);
        Assert.StartsWith("Circuit 'slow': CircuitBreakerOptions.RecoveryTimeout", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Ctor_OverridesAddedAfterConstruction_HaveNoEffect()
    {
        var options = new CircuitBreakerRegistryOptions { Defaults = Defaults(failureThreshold: 3) };
        var registry = new CircuitBreakerRegistry(options);
        options.Configure("late", o => o.FailureThreshold = 1);

        CircuitBreaker breaker = registry.Get("late");
        TestBreakers.Fail(breaker);

        Assert.Equal(CircuitState.Closed, breaker.State);
    }

    [Fact]
    public void Status_ReportsEveryKeysState()
    {
        var registry = new CircuitBreakerRegistry(Defaults(failureThreshold: 1));
        registry.Get("closed");
        TestBreakers.Fail(registry.Get("open"));
        registry.Get("isolated").Isolate();
        TestBreakers.Fail(registry.Get("half"));
        _time.Advance(TimeSpan.FromSeconds(10));
        Assert.False(registry.Get("open").TryAcquirePermit(out _, out _)); // rejected; still open
        _time.Advance(_recovery - TimeSpan.FromSeconds(10));

        IReadOnlyDictionary<string, CircuitState> status = registry.Status();

        Assert.Equal(4, status.Count);
        Assert.Equal(CircuitState.Closed, status["closed"]);
        Assert.Equal(CircuitState.HalfOpen, status["open"]); // both open periods are over now
        Assert.Equal(CircuitState.HalfOpen, status["half"]);
        Assert.Equal(CircuitState.Isolated, status["isolated"]);
    }

    // ---- Execute / ExecuteAsync overloads ----

    [Fact]
    public void Execute_AllSyncOverloads_RunThroughTheKeysBreaker()
    {
        var registry = new CircuitBreakerRegistry(new CircuitBreakerOptions { FailureThreshold = 1, TimeProvider = _time, FallbackOnFailure = false });
        int actions = 0;

        Assert.Equal(1, registry.Execute("a", () => 1));
        registry.Execute("a", () => { actions++; });
        Assert.Equal(2, registry.Execute("a", () => 2, _ => -1));
        Assert.Throws<TestFailureException>(() => registry.Execute("a", () => throw new TestFailureException()));
        Assert.Equal(-1, registry.Execute("a", () => 3, ex => ex is CircuitOpenException ? -1 : -2));
        Assert.Throws<CircuitOpenException>(() => registry.Execute("a", () => { actions++; }));

        Assert.Equal(1, actions);
        CircuitSummary summary = registry.Get("a").GetSummary();
        Assert.Equal((3L, 1L, 2L), (summary.Successful, summary.Failed, summary.Rejected));
        Assert.Equal(1, registry.Count);
    }

    [Fact]
    public async Task ExecuteAsync_AllOverloads_RunThroughTheKeysBreaker()
    {
        var registry = new CircuitBreakerRegistry(new CircuitBreakerOptions { FailureThreshold = 1, TimeProvider = _time });
        int actions = 0;

        Assert.Equal(1, await registry.ExecuteAsync("b", _ => ValueTask.FromResult(1), Ct));
        await registry.ExecuteAsync(
            "b",
            async _ =>
            {
                await Task.Yield();
                actions++;
            },
            Ct);
        Assert.Equal(2, await registry.ExecuteAsync("b", _ => ValueTask.FromResult(2), (_, _) => ValueTask.FromResult(-1), Ct));
        await Assert.ThrowsAsync<TestFailureException>(async () => await registry.ExecuteAsync<int>("b", _ => throw new TestFailureException(), Ct));
        Assert.Equal(-1, await registry.ExecuteAsync("b", _ => ValueTask.FromResult(3), (ex, _) => ValueTask.FromResult(ex is CircuitOpenException ? -1 : -2), Ct));
        ValueTask rejected = registry.ExecuteAsync("b", _ => ValueTask.CompletedTask, Ct);
        Assert.True(rejected.IsFaulted);
        await Assert.ThrowsAsync<CircuitOpenException>(() => rejected.AsTask());

        Assert.Equal(1, actions);
        CircuitSummary summary = registry.Get("b").GetSummary();
        Assert.Equal((3L, 1L, 2L), (summary.Successful, summary.Failed, summary.Rejected));
    }

    // ---- StateChanged ----

    [Fact]
    public void StateChanged_ForwardsEveryBreakersTransitionsWithTheBreakerAsSender()
    {
        var registry = new CircuitBreakerRegistry(Defaults(failureThreshold: 1));
        var seen = new List<(object? Sender, CircuitTransition Transition)>();
        registry.StateChanged += (s, t) => seen.Add((s, t));

        CircuitBreaker a = registry.Get("a");
        CircuitBreaker b = registry.Get("b");
        TestBreakers.Fail(a);
        b.Isolate();
        a.Reset();

        Assert.Equal(3, seen.Count);
        Assert.Equal((a, "a", CircuitState.Open), (seen[0].Sender, seen[0].Transition.CircuitName, seen[0].Transition.To));
        Assert.Equal((b, "b", CircuitState.Isolated), (seen[1].Sender, seen[1].Transition.CircuitName, seen[1].Transition.To));
        Assert.Equal((a, "a", CircuitState.Closed), (seen[2].Sender, seen[2].Transition.CircuitName, seen[2].Transition.To));
    }

    // ---- races ----

    [Fact]
    public void Get_ManyThreadsRacingOnTheSameNewKey_AllGetTheSameInstance()
    {
        const int Threads = 16;
        const int Rounds = 200;
        var registry = new CircuitBreakerRegistry(Defaults());
        var results = new CircuitBreaker?[Threads];
        int round = 0;
        using var barrier = new Barrier(Threads + 1);
        var failures = new ConcurrentQueue<Exception>();

        var threads = Enumerable.Range(0, Threads).Select(t => new Thread(() =>
        {
            try
            {
                for (int r = 0; r < Rounds; r++)
                {
                    barrier.SignalAndWait(Ct); // round starts: everyone asks for the same new key at once
                    results[t] = registry.Get(Key(Volatile.Read(ref round)));
                    barrier.SignalAndWait(Ct); // round ends
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                failures.Enqueue(ex);
                barrier.RemoveParticipant();
            }
        })).ToList();
        threads.ForEach(t => t.Start());

        for (int r = 0; r < Rounds; r++)
        {
            Volatile.Write(ref round, r);
            barrier.SignalAndWait(Ct);
            barrier.SignalAndWait(Ct);
            CircuitBreaker? first = results[0];
            Assert.NotNull(first);
            Assert.All(results, b => Assert.Same(first, b));
            Assert.True(registry.TryGet(Key(r), out CircuitBreaker? stored));
            Assert.Same(first, stored);
            Assert.Equal(r + 1, registry.Count);
        }

        threads.ForEach(t => Eventually.Ended(t, "a racing thread"));
        Assert.Empty(failures);
    }

    // ---- capacity and eviction ----

    [Fact]
    public void Get_ManyDistinctKeysOnOneThread_CountNeverExceedsTheBoundAfterAnyInsert()
    {
        // The million-key run is the four-thread test below (it uses both cores); this one is the deterministic baseline.
        const int Capacity = 1024;
        const int Bound = Capacity + (Capacity / 16);
        var registry = CreateBounded(Capacity);
        int max = 0;

        for (int i = 0; i < 250_000; i++)
        {
            registry.Get(Key(i));
            int count = registry.Count;
            if (count > max)
            {
                max = count;
            }

            if (count > Bound)
            {
                Assert.Fail($"Count {count} > {Bound} after insert #{i}");
            }
        }

        Assert.InRange(max, Capacity - (Capacity / 16), Bound);
        Assert.InRange(registry.Count, 1, Bound);
        Assert.Equal(registry.Count, registry.Status().Count);
    }

    [Fact]
    public void Get_MillionDistinctKeysFromFourThreads_CountNeverExceedsTheBound()
    {
        const int Capacity = 1024;
        const int Bound = Capacity + (Capacity / 16);
        const int Threads = 4;
        const int PerThread = 250_000;
        var registry = CreateBounded(Capacity);
        int maxSeen = 0;
        int violation = 0; // the first count seen above the bound; stops every thread at once
        using var start = new ManualResetEventSlim();

        var threads = Enumerable.Range(0, Threads).Select(t => new Thread(() =>
        {
            start.Wait(Ct);
            int localMax = 0;
            for (int i = 0; i < PerThread && Volatile.Read(ref violation) == 0; i++)
            {
                registry.Get($"t{t}-{i}");
                int count = registry.Count; // checked after every insert
                if (count > localMax)
                {
                    localMax = count;
                    if (count > Bound)
                    {
                        Interlocked.CompareExchange(ref violation, count, 0);
                    }
                }
            }

            int seen;
            do
            {
                seen = Volatile.Read(ref maxSeen);
            }
            while (localMax > seen && Interlocked.CompareExchange(ref maxSeen, localMax, seen) != seen);
        })).ToList();
        threads.ForEach(t => t.Start());
        start.Set();
        threads.ForEach(t => Eventually.Ended(t, "a racing thread"));

        Assert.True(violation == 0, $"Count reached {violation} (max seen {maxSeen}), above the bound {Bound}");
        Assert.InRange(maxSeen, Capacity - (Capacity / 16), Bound);
        Assert.InRange(registry.Count, 1, Bound);
    }

    [Fact]
    public void Get_PastCapacity_EvictsTheLeastRecentlyUsedInABatchOfCapacityOverSixteen()
    {
        const int Capacity = 64; // batch of 4
        var registry = CreateBounded(Capacity);
        for (int i = 0; i < Capacity; i++)
        {
            registry.Get(Key(i));
        }

        Assert.Equal(Capacity, registry.Count);

        registry.Get(Key(Capacity)); // one too many

        // A whole batch went at once (not just the one excess breaker), and no more than excess + batch.
        Assert.InRange(registry.Count, Capacity - (Capacity / 16), Capacity - (Capacity / 16) + 1);

        // The old keys that went are exactly the oldest ones.
        int goneOld = Enumerable.Range(0, Capacity).Count(i => !registry.TryGet(Key(i), out _));
        Assert.True(goneOld >= Capacity / 16, $"only {goneOld} old keys evicted");
        for (int i = 0; i < Capacity; i++)
        {
            Assert.Equal(i >= goneOld, registry.TryGet(Key(i), out _));
        }
    }

    [Fact]
    public void Get_NewKeyThatTriggersEviction_IsKeptAsTheMostRecentlyUsed()
    {
        const int Capacity = 16;
        var registry = CreateBounded(Capacity);
        for (int i = 0; i < Capacity; i++)
        {
            registry.Get(Key(i));
        }

        CircuitBreaker newest = registry.Get("newest");

        Assert.True(registry.TryGet("newest", out CircuitBreaker? stored), "the key just added was evicted");
        Assert.Same(newest, stored);
        Assert.Same(newest, registry.Get("newest"));
        Assert.False(registry.TryGet(Key(0), out _)); // the least recently used went instead
    }

    [Fact]
    public void Get_TouchingAKey_KeepsItWhileUntouchedOldKeysGo()
    {
        const int Capacity = 16; // batch of 1
        var registry = CreateBounded(Capacity);
        for (int i = 0; i < Capacity; i++)
        {
            registry.Get(Key(i));
        }

        CircuitBreaker touched = registry.Get(Key(0)); // k0 is now more recent than k1..k15

        for (int i = 0; i < 8; i++)
        {
            registry.Get($"new{i}");
            registry.Get(Key(0)); // keep touching it
        }

        Assert.True(registry.TryGet(Key(0), out CircuitBreaker? stillThere));
        Assert.Same(touched, stillThere);
        Assert.False(registry.TryGet(Key(1), out _));
        Assert.False(registry.TryGet(Key(2), out _));
        Assert.True(registry.TryGet(Key(15), out _)); // the most recent old keys survive
    }

    [Fact]
    public void Get_KeysTouchedSinceTheLastInsert_OutliveAKeyNotTouchedSinceItsInsert()
    {
        // Access order: k0..k1023 inserted, then k0..k1022 touched again; k1023 (untouched since its insert) is now
        // the least recently used, followed by k0, k1, ... An overflow must evict k1023 and then the earliest touched.
        const int Capacity = 1024; // batch of 64
        var registry = CreateBounded(Capacity);
        for (int i = 0; i < Capacity; i++)
        {
            registry.Get(Key(i));
        }

        for (int i = 0; i < Capacity - 1; i++)
        {
            registry.Get(Key(i));
        }

        registry.Get("overflow");

        int evicted = Capacity + 1 - registry.Count;
        Assert.True(evicted >= 2);
        Assert.False(registry.TryGet(Key(Capacity - 1), out _), "k1023, the least recently used, survived");
        int survivorsAmongTheTouched = Enumerable.Range(0, Capacity - 1).Count(i => registry.TryGet(Key(i), out _));
        Assert.Equal(Capacity - 1 - (evicted - 1), survivorsAmongTheTouched);
        for (int i = evicted - 1; i < Capacity - 1; i++)
        {
            Assert.True(registry.TryGet(Key(i), out _), $"{Key(i)} was evicted before older entries");
        }
    }

    [Fact]
    public void Get_PastCapacity_NeverEvictsOpenHalfOpenOrIsolatedBreakers()
    {
        const int Capacity = 16;
        var registry = CreateBounded(Capacity);
        CircuitBreaker open = registry.Get("open");
        CircuitBreaker halfOpen = registry.Get("half-open");
        CircuitBreaker isolated = registry.Get("isolated");
        CircuitBreaker dueOpen = registry.Get("due-open"); // open period over, not observed yet
        TestBreakers.Fail(halfOpen);
        TestBreakers.Fail(dueOpen);
        _time.Advance(_recovery);
        Assert.Equal(CircuitState.HalfOpen, halfOpen.State);
        TestBreakers.Fail(open);
        isolated.Isolate();

        for (int i = 0; i < 10_000; i++)
        {
            registry.Get(Key(i));
        }

        Assert.InRange(registry.Count, 4, Capacity + (Capacity / 16));
        Assert.True(registry.TryGet("open", out CircuitBreaker? o) && ReferenceEquals(o, open));
        Assert.True(registry.TryGet("half-open", out CircuitBreaker? h) && ReferenceEquals(h, halfOpen));
        Assert.True(registry.TryGet("isolated", out CircuitBreaker? s) && ReferenceEquals(s, isolated));
        Assert.True(registry.TryGet("due-open", out CircuitBreaker? d) && ReferenceEquals(d, dueOpen));
        Assert.Equal(CircuitState.Open, open.State);
    }

    [Fact]
    public void Get_PastCapacity_KeepsABreakerWithAPermitInFlight()
    {
        const int Capacity = 16;
        var registry = CreateBounded(Capacity);
        CircuitBreaker busy = registry.Get("busy");
        CircuitPermit inFlight = busy.AcquirePermit();

        for (int i = 0; i < 1_000; i++)
        {
            registry.Get(Key(i));
        }

        Assert.True(registry.TryGet("busy", out CircuitBreaker? stillThere));
        Assert.Same(busy, stillThere);

        inFlight.RecordSuccess(); // idle now: evictable like any other
        for (int i = 1_000; i < 2_000; i++)
        {
            registry.Get(Key(i));
        }

        Assert.False(registry.TryGet("busy", out _));
    }

    [Fact]
    public void Get_PastCapacity_KeepsABreakerWhoseExecuteIsBlockedOnAnotherThread()
    {
        const int Capacity = 16;
        var registry = CreateBounded(Capacity);
        using var started = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var caller = new Thread(() => registry.Execute("busy", () =>
        {
            started.Set();
            release.Wait(Ct);
        }));
        caller.Start();
        started.Wait(Ct);
        CircuitBreaker busy = registry.Get("busy");

        for (int i = 0; i < 1_000; i++)
        {
            registry.Get(Key(i));
        }

        bool kept = registry.TryGet("busy", out CircuitBreaker? stillThere);
        release.Set();
        Eventually.Ended(caller, "the released caller");

        Assert.True(kept);
        Assert.Same(busy, stillThere);
        Assert.Equal(1, busy.GetSummary().Successful);
    }

    [Fact]
    public void Get_MoreBreakersTrippedThanTheCapacity_KeepsThemAll()
    {
        const int Capacity = 4;
        var registry = CreateBounded(Capacity);

        var tripped = new List<CircuitBreaker>();
        for (int i = 0; i < 10; i++)
        {
            CircuitBreaker b = registry.Get(Key(i));
            TestBreakers.Fail(b); // FailureThreshold 1: open
            tripped.Add(b);
        }

        Assert.Equal(10, registry.Count);
        for (int i = 0; i < 10; i++)
        {
            Assert.True(registry.TryGet(Key(i), out CircuitBreaker? b), $"{Key(i)} (open) was evicted");
            Assert.Same(tripped[i], b);
        }
    }

    [Fact]
    public void Get_AfterTrippedBreakersRecover_CountComesBackUnderTheBound()
    {
        const int Capacity = 16;
        var registry = CreateBounded(Capacity);
        var tripped = Enumerable.Range(0, Capacity).Select(i => registry.Get(Key(i))).ToList();
        tripped.ForEach(b => TestBreakers.Fail(b)); // all open: none evictable
        for (int i = 0; i < Capacity; i++)
        {
            registry.Get($"extra{i}");
        }

        tripped.ForEach(b => b.Reset()); // closed and idle again
        for (int i = 0; i < Capacity * 4; i++)
        {
            registry.Get($"more{i}");
        }

        Assert.InRange(registry.Count, 1, Capacity + (Capacity / 16));
    }

    [Fact]
    public void Get_EvictedBreakerStillHeldByACaller_KeepsWorkingAndANewGetCreatesAFreshOne()
    {
        const int Capacity = 16;
        var registry = CreateBounded(Capacity);
        CircuitBreaker old = registry.Get("old");
        TestBreakers.Succeed(old);
        for (int i = 0; i < 100; i++)
        {
            registry.Get(Key(i));
        }

        Assert.False(registry.TryGet("old", out _));
        TestBreakers.Fail(old);
        Assert.Equal(CircuitState.Open, old.State); // the held instance still works

        CircuitBreaker fresh = registry.Get("old");
        Assert.NotSame(old, fresh);
        Assert.Equal(CircuitState.Closed, fresh.State);
        Assert.Equal(0, fresh.GetSummary().TotalCalls);
    }

    [Fact]
    public void Ctor_CapacityOne_HoldsOnlyTheLatestIdleBreaker()
    {
        var registry = CreateBounded(1);

        CircuitBreaker a = registry.Get("a");
        CircuitBreaker b = registry.Get("b");

        Assert.InRange(registry.Count, 0, 1);
        Assert.False(registry.TryGet("a", out _));
        Assert.True(registry.TryGet("b", out CircuitBreaker? stored), "the key just added was evicted");
        Assert.Same(b, stored);
        Assert.NotSame(a, b);
    }
}
