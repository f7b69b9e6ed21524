using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Tripswitch.Controller;

/// <summary>
/// Exact call counters with one slot per thread: a thread only ever writes its own slot, with plain (non-atomic)
/// increments, so the hot path has no interlocked instruction and no cache line bounces between cores; reads sum the
/// slots. A slot has a single writer, so no increment is ever lost — the counts are exact, not estimates.
/// </summary>
internal sealed class CallCounters
{
    private readonly Lock _growLock = new();
    private Slot?[] _slots = new Slot?[4];

    /// <summary>The calling thread's slot. Write it only from this thread, with <see cref="Increment"/>.</summary>
    public Slot Current
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            int index = ThreadSlotIndex.Current;
            Slot?[] slots = Volatile.Read(ref _slots);
            if ((uint)index < (uint)slots.Length && slots[index] is { } slot)
            {
                return slot;
            }

            return AddSlot(index);
        }
    }

    /// <summary>A single-writer increment: the owning thread is the only writer, readers see whole values.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Increment(ref long counter) => Volatile.Write(ref counter, counter + 1);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private Slot AddSlot(int index)
    {
        lock (_growLock)
        {
            Slot?[] slots = _slots;
            if (index >= slots.Length)
            {
                // Grow by copying the slot references: every existing slot (and its counts) carries over.
                Array.Resize(ref slots, Math.Max(index + 1, slots.Length * 2));
            }

            Slot slot = slots[index] ??= new Slot();
            Volatile.Write(ref _slots, slots);
            return slot;
        }
    }

    public CounterSnapshot Read()
    {
        long started = 0, successful = 0, failed = 0, ignored = 0, rejected = 0, slow = 0, shadow = 0;
        Slot?[] slots = Volatile.Read(ref _slots);

        // Outcomes before starts: a call counted as completed here was counted as started, so in-flight is never negative.
        foreach (Slot? slot in slots)
        {
            if (slot is null)
            {
                continue;
            }

            successful += Volatile.Read(ref slot.Successful);
            failed += Volatile.Read(ref slot.Failed);
            ignored += Volatile.Read(ref slot.Ignored);
            rejected += Volatile.Read(ref slot.Rejected);
            slow += Volatile.Read(ref slot.Slow);
            shadow += Volatile.Read(ref slot.ShadowRejected);
        }

        Interlocked.MemoryBarrier();
        foreach (Slot? slot in slots)
        {
            if (slot is not null)
            {
                started += Volatile.Read(ref slot.Started);
            }
        }

        return new CounterSnapshot(started, successful, failed, ignored, rejected, slow, shadow);
    }

    /// <summary>The totals a time window is computed from (outcomes of the current closed generation only).</summary>
    public WindowCounts ReadWindow()
    {
        long total = 0, failures = 0, slow = 0;
        foreach (Slot? slot in Volatile.Read(ref _slots))
        {
            if (slot is not null)
            {
                total += Volatile.Read(ref slot.WindowTotal);
                failures += Volatile.Read(ref slot.WindowFailures);
                slow += Volatile.Read(ref slot.WindowSlow);
            }
        }

        return new WindowCounts(total, failures, slow);
    }

    /// <summary>
    /// One thread's counters, padded on both sides so that they never share a cache line with another object (for a
    /// class, <c>StructLayout.Size</c> is not honoured, hence the explicit trailing field).
    /// </summary>
    [StructLayout(LayoutKind.Explicit)]
    internal sealed class Slot
    {
        [FieldOffset(64)] public long Started;
        [FieldOffset(72)] public long Successful;
        [FieldOffset(80)] public long Failed;
        [FieldOffset(88)] public long Ignored;
        [FieldOffset(96)] public long Rejected;
        [FieldOffset(104)] public long Slow;
        [FieldOffset(112)] public long ShadowRejected;
        [FieldOffset(120)] public long WindowTotal;
        [FieldOffset(128)] public long WindowFailures;
        [FieldOffset(136)] public long WindowSlow;
        [FieldOffset(144)] public int DurationSampleCountdown;
        [FieldOffset(148)] public int ClockCheckCountdown;
        [FieldOffset(216)] private readonly long _trailingPadding;
    }
}

/// <summary>A sum of the per-thread counters at one moment.</summary>
internal readonly record struct CounterSnapshot(long Started, long Successful, long Failed, long Ignored, long Rejected, long Slow, long ShadowRejected)
{
    /// <summary>Calls that were let through and have not reported an outcome yet.</summary>
    public long InFlight => Started - Successful - Failed - Ignored;
}

/// <summary>Cumulative totals of the calls a window rule has seen.</summary>
internal readonly record struct WindowCounts(long Total, long Failures, long Slow)
{
    public static WindowCounts operator -(WindowCounts a, WindowCounts b) => new(a.Total - b.Total, a.Failures - b.Failures, a.Slow - b.Slow);
}
