using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Tripswitch.Tests.Controller;

/// <summary>
/// Granting and rejecting (<c>CircuitStateMachine.Permits.cs</c>): the lock-free rejection of an open circuit relies on
/// a timer to announce the end of the open period, and reads the clock itself every 64th rejection in case that timer is
/// late. Found by mutation testing (docs/mutation.md): with timers that always fire on time, nothing tested the safety net.
/// </summary>
public class CircuitStateMachinePermitsTests
{
    private static readonly TimeSpan _recovery = TimeSpan.FromSeconds(10);

    [Fact]
    public void TryAcquirePermit_TimerNeverFires_The64thRejectionReadsTheClockAndLetsAProbeThrough()
    {
        var time = new LateTimeProvider();
        var breaker = new CircuitBreaker(TestBreakers.Options(time, "late", o =>
        {
            o.FailureThreshold = 1;
            o.RecoveryTimeout = _recovery;
        }));
        TestBreakers.Fail(breaker);
        Assert.False(breaker.TryAcquirePermit(out _, out _)); // this one reads the clock: not due yet

        time.Advance(_recovery); // the open period is over, and no timer says so
        int rejected = 0;
        CircuitPermit permit;
        while (!breaker.TryAcquirePermit(out permit, out _) && rejected < 1_000)
        {
            rejected++;
        }

        Assert.Equal(63, rejected); // from the state word alone, then the 64th reads the clock
        Assert.True(permit.IsProbe);
    }

    [Fact]
    public void TryAcquirePermit_TimerNeverFires_ExactlyAtTheEndOfTheOpenPeriodTheClockCheckLetsAProbeThrough()
    {
        var time = new LateTimeProvider();
        var breaker = new CircuitBreaker(TestBreakers.Options(time, "late", o =>
        {
            o.FailureThreshold = 1;
            o.RecoveryTimeout = _recovery;
        }));
        TestBreakers.Fail(breaker);
        for (int i = 0; i < 64; i++)
        {
            Assert.False(breaker.TryAcquirePermit(out _, out _)); // the 1st read the clock; the next check is the 65th
        }

        time.Advance(_recovery - TimeSpan.FromTicks(1));
        Assert.False(breaker.TryAcquirePermit(out _, out _)); // the 65th reads the clock: one tick early

        for (int i = 0; i < 63; i++)
        {
            Assert.False(breaker.TryAcquirePermit(out _, out _));
        }

        time.Advance(TimeSpan.FromTicks(1));
        Assert.True(breaker.TryAcquirePermit(out CircuitPermit probe, out _)); // the 129th reads it: exactly due
        Assert.True(probe.IsProbe);
    }

    /// <summary>A fake clock whose timers never fire: a timer as late as a starved thread pool can make it.</summary>
    private sealed class LateTimeProvider() : FakeTimeProvider(TestBreakers.Start)
    {
        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) => new NeverFires();

        private sealed class NeverFires : ITimer
        {
            public bool Change(TimeSpan dueTime, TimeSpan period) => true;

            public void Dispose()
            {
            }

            public ValueTask DisposeAsync() => default;
        }
    }

    [Fact]
    public void Rejection_ReadAfterTheOpenPeriodEnded_RetryAfterIsZeroNotNegative()
    {
        var time = TestBreakers.Clock();
        CircuitBreaker breaker = TestBreakers.Create(time, o =>
        {
            o.FailureThreshold = 1;
            o.RecoveryTimeout = _recovery;
        });
        TestBreakers.Fail(breaker);
        Assert.False(breaker.TryAcquirePermit(out _, out CircuitRejection rejection));
        Assert.Equal(_recovery, rejection.RetryAfter);

        time.Advance(_recovery + TimeSpan.FromSeconds(5)); // the caller reads it late

        Assert.Equal(TimeSpan.Zero, rejection.RetryAfter);
    }

    [Fact]
    public void AcquirePermit_Probe_CountsAsStartedUntilItReports()
    {
        var time = TestBreakers.Clock();
        CircuitBreaker breaker = TestBreakers.Create(time, o =>
        {
            o.FailureThreshold = 1;
            o.RecoveryTimeout = _recovery;
        });
        TestBreakers.HalfOpen(breaker, time, 1, _recovery);

        CircuitPermit probe = breaker.AcquirePermit(); // granted under the lock, not on the closed fast path
        Assert.Equal(1, breaker.Machine.Counts.InFlight);

        probe.RecordSuccess();
        Assert.Equal(0, breaker.Machine.Counts.InFlight);
    }
}
