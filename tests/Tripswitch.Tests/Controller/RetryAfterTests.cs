using Microsoft.Extensions.Time.Testing;
using Tripswitch.Tests.Health;
using Xunit;

namespace Tripswitch.Tests.Controller;

public class RetryAfterTests
{
    private static CircuitBreaker Create(FakeTimeProvider time, Action<CircuitBreakerOptions>? more = null, [System.Runtime.CompilerServices.CallerMemberName] string test = "")
        => TestBreakers.CreateUnique(
            time,
            o =>
            {
                o.FailureThreshold = 1;
                o.RecoveryTimeout = TimeSpan.FromSeconds(5);
                more?.Invoke(o);
            },
            test);

    [Fact]
    public void RecordFailure_RetryAfter40sWithRecoveryTimeout5s_KeepsCircuitOpen40s()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = Create(time);

        breaker.AcquirePermit().RecordFailure(new TestFailureException("429"), TimeSpan.FromSeconds(40));

        Assert.Equal(TimeSpan.FromSeconds(40), TestBreakers.Rejection(breaker).RetryAfter);
        time.Advance(TimeSpan.FromSeconds(39.9));
        Assert.Equal(CircuitState.Open, breaker.State);
        CircuitOpenException rejected = TestBreakers.Rejection(breaker);
        Assert.Equal(CircuitState.Open, rejected.State);
        Assert.Equal(TimeSpan.FromSeconds(0.1), rejected.RetryAfter);

        time.Advance(TimeSpan.FromSeconds(0.1));

        Assert.Equal(CircuitState.HalfOpen, breaker.State);
        Assert.True(breaker.AcquirePermit().IsProbe);
    }

    [Fact]
    public void RecordFailure_RetryAfterTenYears_CappedAtMaxRecoveryTimeout()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = Create(time, o => o.MaxRecoveryTimeout = TimeSpan.FromMinutes(30));

        breaker.AcquirePermit().RecordFailure(new TestFailureException("429"), TimeSpan.FromDays(3650));

        TestBreakers.AssertOpenFor(breaker, time, TimeSpan.FromMinutes(30));
    }

    [Fact]
    public void RecordFailure_RetryAfterTenYearsWithDefaultMax_CappedAtTenMinutes()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = Create(time);

        breaker.AcquirePermit().RecordFailure(new TestFailureException("429"), TimeSpan.FromDays(3650));

        TestBreakers.AssertOpenFor(breaker, time, TimeSpan.FromMinutes(10));
    }

    [Fact]
    public void RecordFailure_RetryAfterMaxValue_CappedAtMaxRecoveryTimeout()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = Create(time, o => o.MaxRecoveryTimeout = TimeSpan.FromHours(1));

        breaker.AcquirePermit().RecordFailure(new TestFailureException("429"), TimeSpan.MaxValue);

        TestBreakers.AssertOpenFor(breaker, time, TimeSpan.FromHours(1));
    }

    [Fact]
    public void Execute_ExceptionImplementingIRetryAfterHint_KeepsCircuitOpenForTheHint()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = Create(time);

        TestBreakers.ExecuteFailing(breaker, new RetryAfterHintException(TimeSpan.FromSeconds(40)));

        TestBreakers.AssertOpenFor(breaker, time, TimeSpan.FromSeconds(40));
    }

    [Fact]
    public async Task ExecuteAsync_ExceptionImplementingIRetryAfterHint_KeepsCircuitOpenForTheHint()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = Create(time);

        await TestBreakers.ExecuteFailingAsync(breaker, new RetryAfterHintException(TimeSpan.FromSeconds(40)));

        TestBreakers.AssertOpenFor(breaker, time, TimeSpan.FromSeconds(40));
    }

    [Fact]
    public void Execute_HintExceptionWithoutValue_RecoveryTimeoutApplies()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = Create(time);

        TestBreakers.ExecuteFailing(breaker, new RetryAfterHintException(retryAfter: null));

        TestBreakers.AssertOpenFor(breaker, time, TimeSpan.FromSeconds(5));
    }

    [Fact]
    public void Execute_RetryAfterExtractor_HintApplies()
    {
        var time = new FakeTimeProvider();
        var seen = new List<Exception>();
        CircuitBreaker breaker = Create(time, o => o.RetryAfterExtractor = ex =>
        {
            seen.Add(ex);
            return ex.Message == "429" ? TimeSpan.FromSeconds(40) : null;
        });
        var failure = new TestFailureException("429");

        TestBreakers.ExecuteFailing(breaker, failure);

        Assert.Same(failure, Assert.Single(seen));
        TestBreakers.AssertOpenFor(breaker, time, TimeSpan.FromSeconds(40));
    }

    [Fact]
    public async Task ExecuteAsync_RetryAfterExtractorReturnsNull_RecoveryTimeoutApplies()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = Create(time, o => o.RetryAfterExtractor = ex => ex.Message == "429" ? TimeSpan.FromSeconds(40) : null);

        await TestBreakers.ExecuteFailingAsync(breaker, new TestFailureException("500"));

        TestBreakers.AssertOpenFor(breaker, time, TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task ExecuteAsync_RetryAfterExtractor_HintApplies()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = Create(time, o => o.RetryAfterExtractor = ex => ex is TestFailureException ? TimeSpan.FromSeconds(25) : null);

        await TestBreakers.ExecuteFailingAsync(breaker);

        TestBreakers.AssertOpenFor(breaker, time, TimeSpan.FromSeconds(25));
    }

    [Fact]
    public void RecordFailure_HintShorterThanRecoveryTimeout_RecoveryTimeoutWins()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = Create(time, o => o.RecoveryTimeout = TimeSpan.FromSeconds(30));

        breaker.AcquirePermit().RecordFailure(new TestFailureException(), TimeSpan.FromSeconds(3));

        TestBreakers.AssertOpenFor(breaker, time, TimeSpan.FromSeconds(30));
    }

    [Fact]
    public void RecordFailure_NegativeHint_RecoveryTimeoutApplies()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = Create(time);

        breaker.AcquirePermit().RecordFailure(new TestFailureException(), TimeSpan.FromSeconds(-30));

        TestBreakers.AssertOpenFor(breaker, time, TimeSpan.FromSeconds(5));
    }

    [Fact]
    public void RecordFailure_HintOnFailureBelowThreshold_AppliesWhenTheCircuitTrips()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = Create(time, o => o.FailureThreshold = 3);

        breaker.AcquirePermit().RecordFailure(new TestFailureException("429"), TimeSpan.FromSeconds(40));
        Assert.Equal(CircuitState.Closed, breaker.State);
        time.Advance(TimeSpan.FromSeconds(10));
        TestBreakers.Fail(breaker, 2); // trips; the server asked for 40 s, 10 of which have passed

        Assert.Equal(TimeSpan.FromSeconds(30), breaker.GetSummary().RetryAfter);
        time.Advance(TimeSpan.FromSeconds(29.9));
        Assert.Equal(CircuitState.Open, breaker.State);
        time.Advance(TimeSpan.FromSeconds(0.1));
        Assert.Equal(CircuitState.HalfOpen, breaker.State);
    }

    [Fact]
    public void Execute_HintOnFailureBelowThresholdWithCountWindow_AppliesWhenTheCircuitTrips()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = Create(time, o =>
        {
            o.Rule = FailureRule.CountWindow;
            o.WindowSize = 4;
            o.MinimumThroughput = 4;
            o.FailureRatio = 0.5;
        });

        TestBreakers.ExecuteFailing(breaker, new RetryAfterHintException(TimeSpan.FromSeconds(60)));
        TestBreakers.Succeed(breaker, 2);
        Assert.Equal(CircuitState.Closed, breaker.State);
        TestBreakers.ExecuteFailing(breaker);

        TestBreakers.AssertOpenFor(breaker, time, TimeSpan.FromSeconds(60));
    }

    [Fact]
    public void RecordFailure_SeveralHintsBelowThreshold_LatestDeadlineWins()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = Create(time, o => o.FailureThreshold = 3);

        breaker.AcquirePermit().RecordFailure(new TestFailureException(), TimeSpan.FromSeconds(50));
        breaker.AcquirePermit().RecordFailure(new TestFailureException(), TimeSpan.FromSeconds(20));
        TestBreakers.Fail(breaker);

        TestBreakers.AssertOpenFor(breaker, time, TimeSpan.FromSeconds(50));
    }

    [Fact]
    public void RecordFailure_LaterHintFromCallFinishingWhileOpen_ExtendsOpenPeriod()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = Create(time);
        CircuitPermit slow = breaker.AcquirePermit(); // started while closed
        TestBreakers.Fail(breaker);
        time.Advance(TimeSpan.FromSeconds(1));

        slow.RecordFailure(new TestFailureException("429"), TimeSpan.FromSeconds(40));

        Assert.Equal(TimeSpan.FromSeconds(40), TestBreakers.Rejection(breaker).RetryAfter);
        TestBreakers.AssertOpenFor(breaker, time, TimeSpan.FromSeconds(40));
    }

    [Fact]
    public async Task ExecuteAsync_HintExceptionFromCallFinishingWhileOpen_ExtendsOpenPeriod()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = Create(time);
        var upstream = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<int> inFlight = breaker.ExecuteAsync(ct => upstream.Task, TestContext.Current.CancellationToken);
        TestBreakers.Fail(breaker);
        Assert.Equal(CircuitState.Open, breaker.State);

        upstream.SetException(new RetryAfterHintException(TimeSpan.FromSeconds(40)));
        await Assert.ThrowsAsync<RetryAfterHintException>(() => inFlight);

        TestBreakers.AssertOpenFor(breaker, time, TimeSpan.FromSeconds(40));
    }

    [Fact]
    public void RecordFailure_EarlierHintFromCallFinishingWhileOpen_NeverShortensOpenPeriod()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = Create(time, o => o.RecoveryTimeout = TimeSpan.FromSeconds(30));
        CircuitPermit slow = breaker.AcquirePermit();
        TestBreakers.Fail(breaker);

        slow.RecordFailure(new TestFailureException("429"), TimeSpan.FromSeconds(1));

        TestBreakers.AssertOpenFor(breaker, time, TimeSpan.FromSeconds(30));
    }

    [Fact]
    public void RecordFailure_EarlierHintAfterLongerHint_NeverShortensOpenPeriod()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = Create(time, o => o.FailureThreshold = 2);
        CircuitPermit late = breaker.AcquirePermit();
        breaker.AcquirePermit().RecordFailure(new TestFailureException(), TimeSpan.FromSeconds(60));
        breaker.AcquirePermit().RecordFailure(new TestFailureException(), TimeSpan.FromSeconds(45)); // trips: open 60 s

        late.RecordFailure(new TestFailureException(), TimeSpan.FromSeconds(10));

        TestBreakers.AssertOpenFor(breaker, time, TimeSpan.FromSeconds(60));
    }

    [Fact]
    public void RecordFailure_HugeHintFromCallFinishingWhileOpen_CappedAtMaxRecoveryTimeout()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = Create(time, o => o.MaxRecoveryTimeout = TimeSpan.FromMinutes(2));
        CircuitPermit slow = breaker.AcquirePermit();
        TestBreakers.Fail(breaker);

        slow.RecordFailure(new TestFailureException("429"), TimeSpan.FromDays(3650));

        TestBreakers.AssertOpenFor(breaker, time, TimeSpan.FromMinutes(2));
    }

    [Fact]
    public void RecordFailure_FailedProbeWithHint_ReopensForTheHint()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = Create(time);
        TestBreakers.Fail(breaker);
        time.Advance(TimeSpan.FromSeconds(5));
        CircuitPermit probe = breaker.AcquirePermit();
        Assert.True(probe.IsProbe);

        probe.RecordFailure(new TestFailureException("429"), TimeSpan.FromSeconds(40));

        TestBreakers.AssertOpenFor(breaker, time, TimeSpan.FromSeconds(40));
    }

    [Fact]
    public void TryAcquirePermit_WhileOpenForHint_ReportsRemainingTime()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = Create(time);
        breaker.AcquirePermit().RecordFailure(new TestFailureException("429"), TimeSpan.FromSeconds(40));
        time.Advance(TimeSpan.FromSeconds(15));

        bool granted = breaker.TryAcquirePermit(out _, out TimeSpan retryAfter);

        Assert.False(granted);
        Assert.Equal(TimeSpan.FromSeconds(25), retryAfter);
    }

    [Fact]
    public void Execute_RetryAfterExtractorThrows_FailureStillCountsAndOpensTheCircuit()
    {
        // Like a throwing BreakDurationGenerator, a throwing extractor must not lose the caller's outcome: the failure
        // still counts toward the rule (here: trips the circuit) even though no hint could be read.
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = Create(time, o => o.RetryAfterExtractor = _ => throw new InvalidOperationException("extractor bug"));

        Assert.Throws<TestFailureException>(() => breaker.Execute(() => throw new TestFailureException())); // the caller's own, not the extractor's

        Assert.Equal(CircuitState.Open, breaker.State);
        Assert.Equal(1, breaker.GetSummary().Failed);
    }

    [Fact]
    public void Execute_RetryAfterExtractorThrowsForAProbe_ProbeSlotIsNotLost()
    {
        var time = new FakeTimeProvider();
        bool extractorBroken = false;
        CircuitBreaker breaker = Create(time, o => o.RetryAfterExtractor = _ => extractorBroken ? throw new InvalidOperationException("extractor bug") : null);
        TestBreakers.Fail(breaker);
        time.Advance(TimeSpan.FromSeconds(5));
        extractorBroken = true;

        Assert.Throws<TestFailureException>(() => breaker.Execute(() => throw new TestFailureException())); // the probe fails, with its own error

        // The failed probe reopens the circuit; a lost report would leave it half-open with its only slot taken.
        Assert.Equal(CircuitState.Open, breaker.State);
    }
}
