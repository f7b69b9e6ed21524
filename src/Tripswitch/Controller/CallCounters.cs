using System.Numerics;
using System.Runtime.CompilerServices;

namespace Tripswitch.Controller;

/// <summary>
/// Exact call counters whose memory is bounded by the number of cores, not by the number of threads that call the
/// circuit: one shared slot, plus at most one cell per core once callers contend for it.
/// </summary>
/// <remarks>
/// <para>
/// <b>Why this shape.</b> Every count is an interlocked increment, so a count is exact whichever thread writes
/// whichever slot; the design only decides where the writes go, for speed. Uncontended, an interlocked increment of a
/// cache line the core already holds costs about a nanosecond, far less than finding the calling thread (a
/// thread-local read is a call into the runtime here, 3 to 5 ns). So a circuit starts with one shared slot and no
/// per-thread lookup at all. When threads on several cores write it at once, its cache line bounces between them
/// and every call pays for it; the shared slot notices (an increment that finds another thread wrote the counter just
/// before it) and after <see cref="ContendedThreshold"/> such collisions the circuit switches to cells: an array
/// of at most <see cref="Environment.ProcessorCount"/> padded slots (a power of two), as Java's <c>LongAdder</c>
/// does. The switch is one-way.
/// </para>
/// <para>
/// <b>Finding a thread's cell without a thread-local read.</b> A thread's cell is keyed by the megabyte of the
/// address space its stack is in (the address of a local variable, shifted): free to compute, the same for a thread
/// at every ordinary call depth, and different for two threads whose stacks are at least a megabyte apart (.NET
/// gives threads 1.5 MB stacks by default). A key is looked for at its position and the next one; a thread whose key
/// is at neither claims an empty position (or one whose claimant thread has ended), or else writes the shared slot.
/// Because every write is interlocked, nothing depends on a key being exact: two threads that share a key (tiny
/// custom stacks) or a thread seen under two keys (a stack that crosses a megabyte boundary) only share or spread
/// cache lines; no count is ever lost.
/// </para>
/// <para>
/// <b>Invariants.</b> Slots are never removed or replaced, so every count ever made stays in the sums. Counts only
/// grow. A start is written before its outcome.
/// </para>
/// </remarks>
internal sealed class CallCounters
{
    /// <summary>Collisions on the shared slot after which the circuit switches to cells.</summary>
    internal const int ContendedThreshold = 64;

    /// <summary>A stack key is the address divided by 2^20: one megabyte of stack.</summary>
    private const int StackKeyShift = 20;

    /// <summary>
    /// Unused array elements before and after the positions (8 references: 64 bytes), so that the array every call of a
    /// contended circuit reads never shares a cache line with a cell that one of them writes (a cell is allocated right
    /// after the array by the thread that made it, and a compacting GC keeps them together).
    /// </summary>
    private const int ArrayPad = 8;

    /// <summary>At most one cell per core; a power of two so that a mask picks the position.</summary>
    private static readonly int s_cells = 1 << BitOperations.Log2((uint)Math.Max(1, Environment.ProcessorCount));

    private readonly CircuitStateMachine? _machine;
    private readonly Slot _shared;
    private Cell?[]? _cells;
    private int _collisions;

    /// <summary>Counters for <paramref name="machine"/> (which every slot leads back to, for a permit's outcome).</summary>
    /// <param name="machine">The circuit; <see langword="null"/> only in tests of the counters alone.</param>
    public CallCounters(CircuitStateMachine? machine = null)
    {
        _machine = machine;
        _shared = new Slot(machine, sharedBy: this);
    }

    /// <summary>The slot the calling thread writes: the shared slot until callers contend, then the thread's cell.</summary>
    public Slot Current
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            Cell?[]? cells = Volatile.Read(ref _cells);
            return cells is null ? _shared : CellFor(cells, StackKey());
        }
    }

    /// <summary>The slot of the threads with stack key <paramref name="key"/> (tests use it to stand for other threads' keys).</summary>
    internal Slot SlotFor(nint key) => Volatile.Read(ref _cells) is { } cells ? CellFor(cells, key) : _shared;

    /// <summary>Whether the circuit has switched to cells (callers contended for the shared slot).</summary>
    internal bool IsContended => Volatile.Read(ref _cells) is not null;

    /// <summary>The calling thread's stack key: the megabyte of address space its stack is in at this call.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static nint StackKey()
    {
        byte local = 0;
        return Unsafe.ByteOffset(ref Unsafe.NullRef<byte>(), ref local) >>> StackKeyShift;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Slot CellFor(Cell?[] cells, nint key)
    {
        int mask = s_cells - 1;
        int position = (int)key & mask;
        if (cells[ArrayPad + position] is { } cell && cell.Key == key)
        {
            return cell;
        }

        if (cells[ArrayPad + ((position + 1) & mask)] is { } next && next.Key == key)
        {
            return next;
        }

        return ClaimCell(cells, key);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private Slot ClaimCell(Cell?[] cells, nint key)
    {
        // Two positions per key: its own, then the next one, so that two busy threads whose keys meet at one position
        // still both get a cell. Taking a position is a compare-and-swap: one winner. A cell whose claimant thread has
        // ended is taken over the same way (its counts stay in it and in the sums).
        Thread me = Thread.CurrentThread;
        int mask = s_cells - 1;
        for (int probe = 0; probe <= Math.Min(1, mask); probe++)
        {
            ref Cell? position = ref cells[ArrayPad + (((int)key + probe) & mask)];
            Cell? cell = Volatile.Read(ref position);
            if (cell is null)
            {
                var mine = new Cell(_machine, key, me);
                cell = Interlocked.CompareExchange(ref position, mine, null) ?? mine;
            }

            nint claimed = Volatile.Read(ref cell.Key);
            if (claimed == key)
            {
                return cell;
            }

            if (Volatile.Read(ref cell.Claimant) is { IsAlive: false } && Interlocked.CompareExchange(ref cell.Key, key, claimed) == claimed)
            {
                Volatile.Write(ref cell.Claimant, me);
                return cell;
            }
        }

        return _shared;
    }

    /// <summary>A collision on the shared slot: switches to cells after <see cref="ContendedThreshold"/> of them.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal void OnCollision()
    {
        if (Interlocked.Increment(ref _collisions) == ContendedThreshold)
        {
            Interlocked.CompareExchange(ref _cells, new Cell?[s_cells + (2 * ArrayPad)], null);
        }
    }

    public CounterSnapshot Read()
    {
        // Outcomes before starts: a call counted as completed here was counted as started, so in-flight is never
        // negative. A start is always written before its outcome (possibly into another slot, when the call completes
        // on another thread or the circuit switched to cells in between), and the second pass reads the cell array again, so
        // it also sees a cell taken after the first pass.
        CounterSnapshot outcomes = default;
        AddOutcomes(_shared, ref outcomes);
        if (Volatile.Read(ref _cells) is { } cells)
        {
            for (int i = 0; i < cells.Length; i++)
            {
                if (Volatile.Read(ref cells[i]) is { } slot)
                {
                    AddOutcomes(slot, ref outcomes);
                }
            }
        }

        Interlocked.MemoryBarrier();
        long started = Volatile.Read(ref _shared.Started);
        if (Volatile.Read(ref _cells) is { } cellsNow)
        {
            for (int i = 0; i < cellsNow.Length; i++)
            {
                if (Volatile.Read(ref cellsNow[i]) is { } slot)
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
        if (Volatile.Read(ref _cells) is { } cells)
        {
            for (int i = 0; i < cells.Length; i++)
            {
                if (Volatile.Read(ref cells[i]) is { } slot)
                {
                    sum += Window(slot);
                }
            }
        }

        return sum;

        static WindowCounts Window(Slot slot) =>
            new(Volatile.Read(ref slot.WindowTotal), Volatile.Read(ref slot.WindowFailures), Volatile.Read(ref slot.WindowSlow));
    }

    /// <summary>How many positions the cell array has (a power of two, at most the processor count).</summary>
    internal static int CellPositions => s_cells;

    /// <summary>How many slots exist: 1 while uncontended, at most 1 + the processor count once contended.</summary>
    internal int SlotCount => 1 + (Volatile.Read(ref _cells)?.Count(static cell => cell is not null) ?? 0);

    /// <summary>One set of counters, every write interlocked: the shared slot, or one of the cells.</summary>
    /// <remarks>
    /// The runtime lays out the reference first, then the <see langword="long"/> fields in the order declared here, then
    /// the <see langword="int"/> fields; the rarely written counters come first, so the ones every closed call writes
    /// start 64 bytes or more after the end of the object before it, which after a compacting GC may be anything,
    /// including the cell array or the state every call reads (a test pins the offset). The shared slot has no other
    /// padding: it costs a circuit nothing beyond its counters, and it is written from several cores at once only
    /// until the circuit switches to cells.
    /// </remarks>
    internal class Slot
    {
        /// <summary>The circuit these counters belong to (null only in tests of the counters alone).</summary>
        public readonly CircuitStateMachine? Machine;

        /// <summary>The counters that own this slot when it is their shared slot (collisions are reported to them); null for a cell.</summary>
        private readonly CallCounters? _sharedBy;

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

        // Sampling countdowns, not counts: racing threads may lose a decrement, which only moves the next sample by a
        // call or two.
        public int DurationSampleCountdown;
        public int ClockCheckCountdown;

        internal Slot(CircuitStateMachine? machine, CallCounters? sharedBy)
        {
            Machine = machine;
            _sharedBy = sharedBy;
        }

        /// <summary>Whether this is the circuit's shared slot.</summary>
        internal bool IsShared => _sharedBy is not null;

        /// <summary>Adds one to <paramref name="counter"/>, a field of this slot. Safe from any thread.</summary>
        /// <remarks>
        /// On the shared slot the counter is read just before the increment: when the increment does not land on that
        /// value plus one, another thread wrote the counter in between, and that collision is what switches a contended
        /// circuit to cells.
        /// </remarks>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Increment(ref long counter)
        {
            if (_sharedBy is { } counters)
            {
                long seen = Volatile.Read(ref counter);
                if (Interlocked.Increment(ref counter) != seen + 1)
                {
                    counters.OnCollision();
                }
            }
            else
            {
                Interlocked.Increment(ref counter);
            }
        }
    }

    /// <summary>
    /// A cell: a slot claimed by the threads of one stack key, padded after its counters too, so that writing them
    /// never invalidates the cache line of whatever comes next in memory (another cell, the cell array).
    /// </summary>
    private sealed class Cell(CircuitStateMachine? machine, nint key, Thread claimant) : Slot(machine, sharedBy: null)
    {
        /// <summary>The stack key of the threads that write this cell.</summary>
        public nint Key = key;

        /// <summary>The thread that claimed it last; when that thread has ended, another key may take the cell over.</summary>
        public Thread? Claimant = claimant;

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
