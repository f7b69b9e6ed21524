namespace Tripswitch.Controller;

/// <summary>
/// A half-open circuit's probe slots: one slot per probe in flight, each with its probe's id, start time (for its
/// timeout) and fleet lease. Its one job: take, release, expire, resize, and remember which probes already reported.
/// </summary>
/// <remarks>
/// Every member with the <c>Locked</c> suffix runs under the state machine's lock. <see cref="InFlight"/> and
/// <see cref="EarliestDeadline"/> are written under it and read lock-free, so a caller can be rejected while every slot
/// is taken without taking the lock. Probe ids are unique for the circuit's life and every transition clears all
/// slots: a probe from an earlier half-open period, a timed-out probe or a permit reported twice finds no slot.
/// </remarks>
internal sealed class ProbeSlots(int capacity, long timeoutTicks)
{
    // Probes are few: the last ones that reported are remembered, so a probe permit reported twice counts once.
    private const int ReportedMemory = CircuitBreakerDefaults.MaxHalfOpenMaxCalls < 64 ? CircuitBreakerDefaults.MaxHalfOpenMaxCalls : 64;

    private Slot[] _slots = new Slot[capacity];
    private long _timeoutTicks = timeoutTicks;
    private long _lastId;
    private int _inFlight;
    private long _earliestDeadline = long.MaxValue;
    private long[]? _reported; // allocated at the first probe's report: most circuits never probe
    private int _reportedNext;

    /// <summary>How a probe's slot was released.</summary>
    public enum Release
    {
        /// <summary>No slot holds the probe (stale, already failed, or reported twice): nothing to do.</summary>
        NotHeld,

        /// <summary>The slot is free again; the probe's outcome counts.</summary>
        Released,

        /// <summary>The probe's time ran out before it reported: it still holds its slot and must be failed.</summary>
        TimedOut,
    }

    /// <summary>How many probes are in flight (read lock-free).</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>The timestamp at which the first probe in flight times out; <see cref="long.MaxValue"/> when none is (read lock-free).</summary>
    public long EarliestDeadline => Volatile.Read(ref _earliestDeadline);

    /// <summary>Takes a free slot for a new probe started at <paramref name="now"/> and returns its id. The caller checked that fewer than HalfOpenMaxCalls are in flight.</summary>
    public long TakeLocked(long now, long lease)
    {
        int free = IndexOf(0);
        long id = ++_lastId;
        _slots[free] = new Slot(id, now, lease);
        Changed(_inFlight + 1);
        return id;
    }

    /// <summary>Frees the slot of probe <paramref name="id"/> with its <paramref name="lease"/>, unless its time ran out first.</summary>
    public Release ReleaseLocked(long id, long now, out long lease)
    {
        lease = 0;
        int i = IndexOf(id);
        if (i < 0)
        {
            return Release.NotHeld;
        }

        if (now - _slots[i].Started >= _timeoutTicks)
        {
            return Release.TimedOut;
        }

        lease = _slots[i].Lease;
        _slots[i] = default;
        Changed(_inFlight - 1);
        return Release.Released;
    }

    /// <summary>Whether probe <paramref name="id"/> holds a slot, and its lease.</summary>
    public bool HoldsLocked(long id, out long lease)
    {
        int i = IndexOf(id);
        lease = i < 0 ? 0 : _slots[i].Lease;
        return i >= 0;
    }

    /// <summary>The id of a probe whose time ran out, or 0.</summary>
    public long FindExpiredLocked(long now)
    {
        foreach (Slot slot in _slots)
        {
            if (slot.Id != 0 && now - slot.Started >= _timeoutTicks)
            {
                return slot.Id;
            }
        }

        return 0;
    }

    /// <summary>Frees every slot (every transition does).</summary>
    public void ClearLocked()
    {
        Array.Clear(_slots);
        Changed(0);
    }

    /// <summary>Applies new options, keeping the probes in flight: new ones are granted while fewer than the new HalfOpenMaxCalls run.</summary>
    public void ResizeLocked(int newCapacity, long newTimeoutTicks)
    {
        _timeoutTicks = newTimeoutTicks;
        if (newCapacity != _slots.Length)
        {
            var slots = new Slot[Math.Max(newCapacity, _inFlight)];
            int j = 0;
            foreach (Slot slot in _slots)
            {
                if (slot.Id != 0)
                {
                    slots[j++] = slot;
                }
            }

            _slots = slots;
        }

        Changed(_inFlight);
    }

    /// <summary>Whether this is the first report of probe <paramref name="id"/> (and remembers it).</summary>
    public bool FirstReportLocked(long id)
    {
        _reported ??= new long[ReportedMemory];
        if (Array.IndexOf(_reported, id) >= 0)
        {
            return false;
        }

        _reported[_reportedNext] = id;
        _reportedNext = (_reportedNext + 1) % _reported.Length;
        return true;
    }

    private int IndexOf(long id)
    {
        for (int i = 0; i < _slots.Length; i++)
        {
            if (_slots[i].Id == id)
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>Publishes the count and the earliest deadline after slots were taken or freed.</summary>
    private void Changed(int inFlight)
    {
        long earliest = long.MaxValue;
        foreach (Slot slot in _slots)
        {
            if (slot.Id != 0)
            {
                earliest = Math.Min(earliest, slot.Started + _timeoutTicks);
            }
        }

        Volatile.Write(ref _inFlight, inFlight);
        Volatile.Write(ref _earliestDeadline, earliest);
    }

    private readonly record struct Slot(long Id, long Started, long Lease);
}
