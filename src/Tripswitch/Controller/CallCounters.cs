using System.Numerics;
using System.Runtime.CompilerServices;

namespace Tripswitch.Controller;

/// <summary>
/// Exact call counters whose memory is bounded by the number of cores, not by the number of threads that call the
/// circuit: one shared slot, plus at most one owned slot per core once the circuit is hot.
/// </summary>
/// <remarks>
/// <para>
/// <b>Why this shape.</b> An exact count written by several threads needs an interlocked instruction, which costs
/// about as much as the rest of the closed hot path (two per call: the start and the outcome). A count written by
/// one thread only needs a plain store. So a slot has an owner: the owner writes it with plain stores, and the
/// threads without a slot of their own add to the shared slot with interlocked increments. A counter in the style of
/// Java's <c>LongAdder</c> (cells by processor, every write interlocked) was the alternative; it bounds memory the
/// same way but puts two interlocked instructions on every call, which would cost the closed path its margin over
/// Polly. Giving every thread its own slot (the previous design) made memory grow with every thread that ever
/// called: 9 KB per circuit at 32 threads.
/// </para>
/// <para>
/// <b>Cold, then hot.</b> A new circuit has only the shared slot (no padding, nothing allocated per thread): a
/// circuit called now and then pays an interlocked increment per count and costs about a hundred bytes. Once
/// <see cref="HotThreshold"/> calls have started through the shared slot, the owned slots are switched on: an array
/// of at most <see cref="Environment.ProcessorCount"/> positions (a power of two), filled as threads call. A thread's
/// slot sits at its managed thread id modulo the array length, or at the next position; a thread that finds both
/// taken by other live threads keeps using the shared slot. A slot whose owner thread ended is taken over by the next
/// thread that hashes to it. With as many busy threads as cores (the case that matters for throughput), each has its
/// own slot; more threads than slots share the shared slot, exactly.
/// </para>
/// <para>
/// <b>Invariants.</b> An owned slot has exactly one writer at a time: its <see cref="Slot.Owner"/>, which changes only
/// from an ended thread to a live one. Slots are never removed or replaced, so every count ever made stays in the
/// sums. Counts only grow.
/// </para>
/// </remarks>
internal sealed class CallCounters
{
    /// <summary>Calls started or rejected through the shared slot after which threads may take owned slots.</summary>
    internal const long HotThreshold = 1024;

    /// <summary>At most one owned slot per core; a power of two so that a mask picks the position.</summary>
    private static readonly int s_ownedSlots = 1 << BitOperations.Log2((uint)Math.Max(1, Environment.ProcessorCount));

    private readonly Slot _shared = new(owner: null);
    private Slot?[]? _owned;

    /// <summary>
    /// The calling thread's slot: its owned slot when it has one, otherwise the shared slot. Write it only from this
    /// thread, with <see cref="Slot.Increment"/>.
    /// </summary>
    public Slot Current
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            Slot?[]? owned = Volatile.Read(ref _owned);
            if (owned is not null)
            {
                Thread me = Thread.CurrentThread;
                int mask = owned.Length - 1;
                int position = me.ManagedThreadId;
                if (owned[position & mask] is { } slot && ReferenceEquals(slot.Owner, me))
                {
                    return slot;
                }

                if (owned[(position + 1) & mask] is { } next && ReferenceEquals(next.Owner, me))
                {
                    return next;
                }
            }

            return CurrentSlow(owned);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private Slot CurrentSlow(Slot?[]? owned)
    {
        if (owned is null)
        {
            // Rejections count too: an open circuit's callers write only Rejected, and never start a call.
            if (Volatile.Read(ref _shared.Started) + Volatile.Read(ref _shared.Rejected) < HotThreshold)
            {
                return _shared; // cold: not worth a padded slot
            }

            var array = new Slot?[s_ownedSlots];
            owned = Interlocked.CompareExchange(ref _owned, array, null) ?? array;
        }

        Thread me = Thread.CurrentThread;
        int mask = owned.Length - 1;

        // Two positions per thread: the thread's own, then the next one, so that two busy threads whose ids meet at one
        // position still both get a slot. Taking a position is a compare-and-swap: one winner per position. A slot whose
        // owner thread has ended is taken over the same way: an ended thread writes nothing more, and everything it
        // wrote happens-before its end is observed (the runtime's thread-exit bookkeeping is synchronized, and the
        // compare-and-swap is a full fence), so its counts carry on in the new owner's.
        for (int probe = 0; probe <= Math.Min(1, mask); probe++)
        {
            ref Slot? position = ref owned[(me.ManagedThreadId + probe) & mask];
            Slot? slot = Volatile.Read(ref position);
            if (slot is null)
            {
                var mine = new OwnedSlot(me);
                slot = Interlocked.CompareExchange(ref position, mine, null) ?? mine;
            }

            Thread? owner = Volatile.Read(ref slot.Owner);
            if (ReferenceEquals(owner, me)
                || (owner is { IsAlive: false } && ReferenceEquals(Interlocked.CompareExchange(ref slot.Owner, me, owner), owner)))
            {
                return slot;
            }
        }

        return _shared;
    }

    public CounterSnapshot Read()
    {
        // Outcomes before starts: a call counted as completed here was counted as started, so in-flight is never
        // negative. A start is always written before its outcome (possibly into another slot, when the call completes
        // on another thread or the circuit got hot in between), and the second pass reads the slot array again, so
        // it also sees a slot taken after the first pass.
        CounterSnapshot outcomes = default;
        AddOutcomes(_shared, ref outcomes);
        if (Volatile.Read(ref _owned) is { } owned)
        {
            for (int i = 0; i < owned.Length; i++)
            {
                if (Volatile.Read(ref owned[i]) is { } slot)
                {
                    AddOutcomes(slot, ref outcomes);
                }
            }
        }

        Interlocked.MemoryBarrier();
        long started = Volatile.Read(ref _shared.Started);
        if (Volatile.Read(ref _owned) is { } ownedNow)
        {
            for (int i = 0; i < ownedNow.Length; i++)
            {
                if (Volatile.Read(ref ownedNow[i]) is { } slot)
                {
                    started += Volatile.Read(ref slot.Started);
                }
            }
        }

        return outcomes with { Started = started };
    }

    private static void AddOutcomes(Slot slot, ref CounterSnapshot sum) => sum = sum with
    {
        Successful = sum.Successful + Volatile.Read(ref slot.Successful),
        Failed = sum.Failed + Volatile.Read(ref slot.Failed),
        Ignored = sum.Ignored + Volatile.Read(ref slot.Ignored),
        Rejected = sum.Rejected + Volatile.Read(ref slot.Rejected),
        Slow = sum.Slow + Volatile.Read(ref slot.Slow),
        ShadowRejected = sum.ShadowRejected + Volatile.Read(ref slot.ShadowRejected),
    };

    /// <summary>The totals a time window is computed from (outcomes of the current closed generation only).</summary>
    public WindowCounts ReadWindow()
    {
        WindowCounts sum = Window(_shared);
        if (Volatile.Read(ref _owned) is { } owned)
        {
            for (int i = 0; i < owned.Length; i++)
            {
                if (Volatile.Read(ref owned[i]) is { } slot)
                {
                    sum += Window(slot);
                }
            }
        }

        return sum;

        static WindowCounts Window(Slot slot) =>
            new(Volatile.Read(ref slot.WindowTotal), Volatile.Read(ref slot.WindowFailures), Volatile.Read(ref slot.WindowSlow));
    }

    /// <summary>How many slots exist: 1 while cold, at most 1 + the processor count once hot.</summary>
    internal int SlotCount => 1 + (Volatile.Read(ref _owned)?.Count(static slot => slot is not null) ?? 0);

    /// <summary>
    /// One set of counters: either shared (<see cref="Owner"/> 0; every write interlocked) or owned by one thread
    /// (written only by that thread, with plain stores).
    /// </summary>
    /// <remarks>
    /// The runtime lays out the reference first, then the <see langword="long"/> fields in the order declared here, then
    /// the <see langword="int"/> fields; the rarely written counters come first, so the ones every closed call writes
    /// start 64 bytes or more after the end of the object before it, which after a compacting GC may be anything,
    /// including the slot array or the state every call reads (a test pins the offset). The shared slot has no other
    /// padding: it costs a circuit nothing beyond its counters, and it is written often only while the circuit is cold
    /// or by threads beyond the owned slots, when its line bounces between cores anyway.
    /// </remarks>
    internal class Slot(Thread? owner)
    {
        /// <summary>
        /// The thread that writes this slot, or <see langword="null"/> for the shared slot. Changes only from an ended
        /// thread to a live one (a compare-and-swap), so a slot never has two writers.
        /// </summary>
        public Thread? Owner = owner;

        public long ShadowRejected;
        public long WindowTotal;
        public long WindowFailures;
        public long WindowSlow;
        public long Rejected;

        // Written by every closed call: at least 64 bytes after the previous object (see above).
        public long Started;
        public long Successful;
        public long Failed;
        public long Ignored;
        public long Slow;

        // Sampling countdowns, not counts: on the shared slot, racing threads may lose a decrement, which only moves
        // the next sample by a call or two.
        public int DurationSampleCountdown;
        public int ClockCheckCountdown;

        /// <summary>Adds one to <paramref name="counter"/>, a field of this slot.</summary>
        /// <remarks>
        /// An owned slot has a single writer, so a plain read-add-store loses nothing; the release store lets readers
        /// on other threads see whole values in order. The shared slot has many writers: an interlocked increment.
        /// </remarks>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Increment(ref long counter)
        {
            if (Owner is not null)
            {
                Volatile.Write(ref counter, counter + 1);
            }
            else
            {
                Interlocked.Increment(ref counter);
            }
        }
    }

    /// <summary>
    /// An owned slot: padded after its counters too, so that writing them never invalidates the cache line of whatever
    /// comes next in memory (another thread's slot, the slot array).
    /// </summary>
    private sealed class OwnedSlot(Thread owner) : Slot(owner)
    {
#pragma warning disable CS0169, IDE0051 // never read: padding only
        private readonly long _q0, _q1, _q2, _q3, _q4, _q5, _q6, _q7;
#pragma warning restore CS0169, IDE0051
    }
}

/// <summary>A sum of the counter slots at one moment.</summary>
internal readonly record struct CounterSnapshot(long Started, long Successful, long Failed, long Ignored, long Rejected, long Slow, long ShadowRejected)
{
    /// <summary>Calls that were let through and have not reported an outcome yet.</summary>
    public long InFlight => Started - Successful - Failed - Ignored;
}

/// <summary>Cumulative totals of the calls a window rule has seen.</summary>
internal readonly record struct WindowCounts(long Total, long Failures, long Slow)
{
    public static WindowCounts operator -(WindowCounts a, WindowCounts b) => new(a.Total - b.Total, a.Failures - b.Failures, a.Slow - b.Slow);

    public static WindowCounts operator +(WindowCounts a, WindowCounts b) => new(a.Total + b.Total, a.Failures + b.Failures, a.Slow + b.Slow);
}
