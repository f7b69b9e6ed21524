using Tripswitch.Controller;
using Xunit;

namespace Tripswitch.Tests.Controller;

public class ProbeSlotsTests
{
    private const long Timeout = 100;

    [Fact]
    public void TakeLocked_GivesUniqueIdsAndPublishesCountAndEarliestDeadline()
    {
        var slots = new ProbeSlots(capacity: 2, Timeout);

        long first = slots.TakeLocked(now: 10, lease: 7);
        long second = slots.TakeLocked(now: 20, lease: 0);

        Assert.NotEqual(first, second);
        Assert.Equal(2, slots.InFlight);
        Assert.Equal(10 + Timeout, slots.EarliestDeadline);
    }

    [Fact]
    public void ReleaseLocked_InTime_FreesTheSlotAndReturnsItsLease()
    {
        var slots = new ProbeSlots(capacity: 2, Timeout);
        long first = slots.TakeLocked(now: 10, lease: 7);
        long second = slots.TakeLocked(now: 20, lease: 8);

        Assert.Equal(ProbeSlots.Release.Released, slots.ReleaseLocked(first, now: 50, out long lease));

        Assert.Equal(7, lease);
        Assert.Equal(1, slots.InFlight);
        Assert.Equal(20 + Timeout, slots.EarliestDeadline);
        Assert.Equal(ProbeSlots.Release.NotHeld, slots.ReleaseLocked(first, now: 50, out _));
        Assert.True(slots.HoldsLocked(second, out long secondLease));
        Assert.Equal(8, secondLease);
    }

    [Fact]
    public void ReleaseLocked_AfterItsTimeout_KeepsTheSlotForTheCallerToFail()
    {
        var slots = new ProbeSlots(capacity: 1, Timeout);
        long probe = slots.TakeLocked(now: 10, lease: 3);

        Assert.Equal(ProbeSlots.Release.TimedOut, slots.ReleaseLocked(probe, now: 10 + Timeout, out long lease));

        Assert.Equal(0, lease);
        Assert.Equal(1, slots.InFlight);
        Assert.Equal(probe, slots.FindExpiredLocked(now: 10 + Timeout));
        Assert.Equal(0, slots.FindExpiredLocked(now: 10 + Timeout - 1));
    }

    [Fact]
    public void ClearLocked_FreesEverySlot()
    {
        var slots = new ProbeSlots(capacity: 3, Timeout);
        long probe = slots.TakeLocked(now: 1, lease: 0);
        slots.TakeLocked(now: 2, lease: 0);

        slots.ClearLocked();

        Assert.Equal(0, slots.InFlight);
        Assert.Equal(long.MaxValue, slots.EarliestDeadline);
        Assert.False(slots.HoldsLocked(probe, out _));
    }

    [Fact]
    public void ResizeLocked_Smaller_KeepsTheProbesInFlight()
    {
        var slots = new ProbeSlots(capacity: 3, Timeout);
        long a = slots.TakeLocked(now: 1, lease: 11);
        long b = slots.TakeLocked(now: 2, lease: 12);
        long c = slots.TakeLocked(now: 3, lease: 13);

        slots.ResizeLocked(newCapacity: 1, newTimeoutTicks: 50);

        Assert.Equal(3, slots.InFlight);
        Assert.True(slots.HoldsLocked(a, out long leaseA) && slots.HoldsLocked(b, out _) && slots.HoldsLocked(c, out _));
        Assert.Equal(11, leaseA);
        Assert.Equal(1 + 50, slots.EarliestDeadline); // the new timeout applies to the probes in flight
        Assert.Equal(ProbeSlots.Release.Released, slots.ReleaseLocked(b, now: 10, out long leaseB));
        Assert.Equal(12, leaseB);
    }

    [Fact]
    public void ResizeLocked_Larger_AddsFreeSlots()
    {
        var slots = new ProbeSlots(capacity: 1, Timeout);
        long a = slots.TakeLocked(now: 1, lease: 0);

        slots.ResizeLocked(newCapacity: 2, Timeout);
        long b = slots.TakeLocked(now: 2, lease: 0);

        Assert.Equal(2, slots.InFlight);
        Assert.True(slots.HoldsLocked(a, out _) && slots.HoldsLocked(b, out _));
    }

    [Fact]
    public void FirstReportLocked_SecondReportOfAProbe_IsRefused()
    {
        var slots = new ProbeSlots(capacity: 1, Timeout);

        Assert.True(slots.FirstReportLocked(5));
        Assert.True(slots.FirstReportLocked(6));
        Assert.False(slots.FirstReportLocked(5));
    }
}
