using System.Globalization;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Tripswitch.Tests;

public class CircuitSummaryTests
{
    private static readonly TimeSpan _recovery = TimeSpan.FromSeconds(30);

    private readonly FakeTimeProvider _time = new();

    private CircuitBreaker Create(int failureThreshold = 3, string name = "sum")
        => TestBreakers.Create(_time, o =>
        {
            o.Name = name;
            o.FailureThreshold = failureThreshold;
            o.RecoveryTimeout = _recovery;
            o.ShouldHandle = TestBreakers.IgnoreNotHandled;
        });

    [Fact]
    public void GetSummary_NewBreaker_IsEmptyClosedWithSuccessRateOne()
    {
        var breaker = Create(name: "fresh");

        CircuitSummary summary = breaker.GetSummary();

        Assert.Equal("fresh", summary.Name);
        Assert.Equal(CircuitState.Closed, summary.State);
        Assert.Equal(0, summary.ConsecutiveFailures);
        Assert.Equal(0, summary.TotalCalls);
        Assert.Equal(0, summary.Successful);
        Assert.Equal(0, summary.Failed);
        Assert.Equal(0, summary.Ignored);
        Assert.Equal(0, summary.Rejected);
        Assert.Equal(1.0, summary.SuccessRate);
        Assert.Equal(TimeSpan.Zero, summary.RetryAfter);
        Assert.Empty(summary.Transitions);
    }

    [Fact]
    public void GetSummary_MixedOutcomes_CountsEachKindAndTotalIsTheirSum()
    {
        var breaker = Create(failureThreshold: 2);
        breaker.Execute(() => 1);
        breaker.Execute(() => 2);
        breaker.Execute(() => 3);
        Assert.Throws<NotHandledException>(() => breaker.Execute(() => throw new NotHandledException()));
        Assert.Throws<TestFailureException>(() => breaker.Execute(() => throw new TestFailureException()));
        Assert.Throws<TestFailureException>(() => breaker.Execute(() => throw new TestFailureException()));
        Assert.Throws<CircuitOpenException>(() => breaker.Execute(() => 4));
        Assert.False(breaker.TryAcquirePermit(out _, out _));

        CircuitSummary summary = breaker.GetSummary();

        Assert.Equal(3, summary.Successful);
        Assert.Equal(2, summary.Failed);
        Assert.Equal(1, summary.Ignored);
        Assert.Equal(2, summary.Rejected);
        Assert.Equal(8, summary.TotalCalls);
        Assert.Equal(0.6, summary.SuccessRate, 12); // 3 / (3 + 2): ignored and rejected calls don't count
    }

    [Fact]
    public void GetSummary_OnlyIgnoredAndRejected_SuccessRateIsOne()
    {
        var breaker = Create();
        Assert.Throws<NotHandledException>(() => breaker.Execute(() => throw new NotHandledException()));
        breaker.Isolate();
        Assert.Throws<CircuitOpenException>(() => breaker.Execute(() => 1));

        CircuitSummary summary = breaker.GetSummary();

        Assert.Equal(1.0, summary.SuccessRate);
        Assert.Equal(2, summary.TotalCalls);
    }

    [Fact]
    public void GetSummary_AllFailed_SuccessRateIsZero()
    {
        var breaker = Create(failureThreshold: 10);
        TestBreakers.Fail(breaker, 4);

        Assert.Equal(0.0, breaker.GetSummary().SuccessRate);
    }

    [Fact]
    public void GetSummary_CallsInFlight_AreNotCountedYet()
    {
        var breaker = Create();
        CircuitPermit inFlight = breaker.AcquirePermit();
        TestBreakers.Succeed(breaker);

        Assert.Equal(1, breaker.GetSummary().TotalCalls);
        inFlight.RecordFailure();
        Assert.Equal(2, breaker.GetSummary().TotalCalls);
    }

    [Fact]
    public void GetSummary_IsASnapshotThatLaterCallsDoNotChange()
    {
        var breaker = Create(failureThreshold: 1);
        CircuitSummary before = breaker.GetSummary();

        TestBreakers.Fail(breaker);

        Assert.Equal(CircuitState.Closed, before.State);
        Assert.Equal(0, before.Failed);
        Assert.Empty(before.Transitions);
        Assert.Equal(CircuitState.Open, breaker.GetSummary().State);
    }

    [Fact]
    public void RetryAfter_DependsOnTheState()
    {
        var breaker = Create(failureThreshold: 1);
        Assert.Equal(TimeSpan.Zero, breaker.GetSummary().RetryAfter); // closed

        TestBreakers.Fail(breaker);
        Assert.Equal(_recovery, breaker.GetSummary().RetryAfter); // open, just tripped
        _time.Advance(TimeSpan.FromSeconds(12.5));
        Assert.Equal(TimeSpan.FromSeconds(17.5), breaker.GetSummary().RetryAfter);

        _time.Advance(TimeSpan.FromSeconds(17.5));
        CircuitSummary halfOpen = breaker.GetSummary(); // the summary itself notices the open period is over
        Assert.Equal(CircuitState.HalfOpen, halfOpen.State);
        Assert.Equal(TimeSpan.Zero, halfOpen.RetryAfter);

        breaker.Isolate();
        Assert.Equal(TimeSpan.MaxValue, breaker.GetSummary().RetryAfter);
    }

    [Fact]
    public void RetryAfter_LongAfterTheOpenPeriod_IsNeverNegative()
    {
        var breaker = Create(failureThreshold: 1);
        TestBreakers.Fail(breaker);

        _time.Advance(TimeSpan.FromDays(3));

        Assert.Equal(TimeSpan.Zero, breaker.GetSummary().RetryAfter);
        Assert.True(breaker.TryAcquirePermit(out CircuitPermit probe, out TimeSpan retryAfter));
        Assert.Equal(TimeSpan.Zero, retryAfter);
        probe.RecordSuccess();
    }

    [Fact]
    public void Transitions_CarryNameStatesTimeAndCause()
    {
        var breaker = Create(failureThreshold: 1, name: "openai/gpt-4.1");
        DateTimeOffset t0 = _time.GetUtcNow();
        var tripCause = new TestFailureException("trip");
        var probeCause = new TestFailureException("probe");

        breaker.AcquirePermit().RecordFailure(tripCause);
        _time.Advance(_recovery);
        breaker.AcquirePermit().RecordFailure(probeCause);

        IReadOnlyList<CircuitTransition> log = breaker.GetSummary().Transitions;
        Assert.Equal(new CircuitTransition("openai/gpt-4.1", CircuitState.Closed, CircuitState.Open, t0, tripCause), log[0]);
        Assert.Equal(new CircuitTransition("openai/gpt-4.1", CircuitState.Open, CircuitState.HalfOpen, t0 + _recovery, null), log[1]);
        Assert.Equal(new CircuitTransition("openai/gpt-4.1", CircuitState.HalfOpen, CircuitState.Open, t0 + _recovery, probeCause), log[2]);
        Assert.Equal(3, log.Count);
    }

    [Fact]
    public void Transitions_MoreThanSixtyFour_KeepsTheLastSixtyFourOldestFirst()
    {
        var breaker = Create();
        DateTimeOffset t0 = _time.GetUtcNow();

        for (int i = 0; i < 70; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(1));
            if (i % 2 == 0)
            {
                breaker.Isolate(); // transitions 0, 2, 4, ...: Closed → Isolated
            }
            else
            {
                breaker.Reset(); // transitions 1, 3, 5, ...: Isolated → Closed
            }
        }

        IReadOnlyList<CircuitTransition> log = breaker.GetSummary().Transitions;
        Assert.Equal(64, log.Count);
        for (int k = 0; k < 64; k++)
        {
            int i = k + 6; // the first six were dropped
            Assert.Equal(t0 + TimeSpan.FromSeconds(i + 1), log[k].At);
            Assert.Equal(i % 2 == 0 ? CircuitState.Isolated : CircuitState.Closed, log[k].To);
        }
    }

    [Fact]
    public void Transitions_ExactlySixtyFour_AreAllKept()
    {
        var breaker = Create();
        for (int i = 0; i < 32; i++)
        {
            breaker.Isolate();
            breaker.Reset();
        }

        IReadOnlyList<CircuitTransition> log = breaker.GetSummary().Transitions;

        Assert.Equal(64, log.Count);
        Assert.Equal(CircuitState.Closed, log[0].From);
        Assert.Equal(CircuitState.Isolated, log[0].To);
        Assert.Equal(CircuitState.Closed, log[^1].To);
    }

    [Fact]
    public void ToString_SeedStyleLineWithAllCounts()
    {
        var breaker = Create(failureThreshold: 3, name: "api");
        TestBreakers.Fail(breaker, 3);
        for (int i = 0; i < 7; i++)
        {
            Assert.False(breaker.TryAcquirePermit(out _, out _));
        }

        string line = breaker.GetSummary().ToString();

        Assert.DoesNotContain('\n', line);
        foreach (string part in new[] { "api", "state=Open", "consecutive_failures=3", "success_rate=0.0%", "total=10", "failed=3", "rejected=7" })
        {
            Assert.Contains(part, line, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void ToString_UsesInvariantCultureAndOneDecimal()
    {
        CultureInfo saved = CultureInfo.CurrentCulture;
        try
        {
            CultureInfo.CurrentCulture = new CultureInfo("de-DE");
            var breaker = Create(failureThreshold: 5);
            TestBreakers.Succeed(breaker, 2);
            TestBreakers.Fail(breaker);

            string line = breaker.GetSummary().ToString();

            Assert.Contains("success_rate=66.7%", line, StringComparison.Ordinal);
            Assert.DoesNotContain('\n', line);
        }
        finally
        {
            CultureInfo.CurrentCulture = saved;
        }
    }
}
