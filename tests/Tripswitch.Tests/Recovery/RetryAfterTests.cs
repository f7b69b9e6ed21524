using Microsoft.Extensions.Time.Testing;
using Tripswitch.Tests.Health;
using Xunit;

namespace Tripswitch.Tests.Recovery;

public class RetryAfterTests
{
    private static CircuitBreaker Create(FakeTimeProvider time, Action<CircuitBreakerOptions>? more = null, [System.Runtime.CompilerServices.CallerMemberName] string test = "")
        => RuleKit.Create(
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

        breaker.AcquirePermit().RecordFailure(new UpstreamException("429"), TimeSpan.FromSeconds(40));

        Assert.Equal(TimeSpan.FromSeconds(40), RuleKit.Rejection(breaker).RetryAfter);
        time.Advance(TimeSpan.FromSeconds(39.9));
        Assert.Equal(CircuitState.Open, breaker.State);
        CircuitOpenException rejected = RuleKit.Rejection(breaker);
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

        breaker.AcquirePermit().RecordFailure(new UpstreamException("429"), TimeSpan.FromDays(3650));

        RuleKit.AssertOpenFor(breaker, time, TimeSpan.FromMinutes(30));
    }

    [Fact]
    public void RecordFailure_RetryAfterTenYearsWithDefaultMax_CappedAtTenMinutes()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = Create(time);

        breaker.AcquirePermit().RecordFailure(new UpstreamException("429"), TimeSpan.FromDays(3650));

        RuleKit.AssertOpenFor(breaker, time, TimeSpan.FromMinutes(10));
    }

    [Fact]
    public void RecordFailure_RetryAfterMaxValue_CappedAtMaxRecoveryTimeout()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = Create(time, o => o.MaxRecoveryTimeout = TimeSpan.FromHours(1));

        breaker.AcquirePermit().RecordFailure(new UpstreamException("429"), TimeSpan.MaxValue);

        RuleKit.AssertOpenFor(breaker, time, TimeSpan.FromHours(1));
    }

    [Fact]
    public void Execute_ExceptionImplementingIRetryAfterHint_KeepsCircuitOpenForTheHint()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = Create(time);

        RuleKit.ExecuteFailing(breaker, new RetryAfterHintException(TimeSpan.FromSeconds(40)));

        RuleKit.AssertOpenFor(breaker, time, TimeSpan.FromSeconds(40));
    }

    [Fact]
    public async Task ExecuteAsync_ExceptionImplementingIRetryAfterHint_KeepsCircuitOpenForTheHint()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = Create(time);

        await RuleKit.ExecuteFailingAsync(breaker, new RetryAfterHintException(TimeSpan.FromSeconds(40)));

        RuleKit.AssertOpenFor(breaker, time, TimeSpan.FromSeconds(40));
    }

    [Fact]
    public void Execute_HintExceptionWithoutValue_RecoveryTimeoutApplies()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = Create(time);

        RuleKit.ExecuteFailing(breaker, new RetryAfterHintException(retryAfter: null));

        RuleKit.AssertOpenFor(breaker, time, TimeSpan.FromSeconds(5));
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
        var failure = new UpstreamException("429");

        RuleKit.ExecuteFailing(breaker, failure);

        Assert.Same(failure, Assert.Single(seen));
        RuleKit.AssertOpenFor(breaker, time, TimeSpan.FromSeconds(40));
    }

    [Fact]
    public async Task ExecuteAsync_RetryAfterExtractorReturnsNull_RecoveryTimeoutApplies()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = Create(time, o => o.RetryAfterExtractor = ex => ex.Message == "429" ? TimeSpan.FromSeconds(40) : null);

        await RuleKit.ExecuteFailingAsync(breaker, new UpstreamException("500"));

        RuleKit.AssertOpenFor(breaker, time, TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task ExecuteAsync_RetryAfterExtractor_HintApplies()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = Create(time, o => o.RetryAfterExtractor = ex => ex is UpstreamException ? TimeSpan.FromSeconds(25) : null);

        await RuleKit.ExecuteFailingAsync(breaker);

        RuleKit.AssertOpenFor(breaker, time, TimeSpan.FromSeconds(25));
    }

    [Fact]
    public void RecordFailure_HintShorterThanRecoveryTimeout_RecoveryTimeoutWins()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = Create(time, o => o.RecoveryTimeout = TimeSpan.FromSeconds(30));

        breaker.AcquirePermit().RecordFailure(new UpstreamException(), TimeSpan.FromSeconds(3));

        RuleKit.AssertOpenFor(breaker, time, TimeSpan.FromSeconds(30));
    }

    [Fact]
    public void RecordFailure_NegativeHint_RecoveryTimeoutApplies()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = Create(time);

        breaker.AcquirePermit().RecordFailure(new UpstreamException(), TimeSpan.FromSeconds(-30));

        RuleKit.AssertOpenFor(breaker, time, TimeSpan.FromSeconds(5));
    }

    [Fact]
    public void RecordFailure_HintOnFailureBelowThreshold_AppliesWhenTheCircuitTrips()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = Create(time, o => o.FailureThreshold = 3);

        breaker.AcquirePermit().RecordFailure(new UpstreamException("429"), TimeSpan.FromSeconds(40));
        Assert.Equal(CircuitState.Closed, breaker.State);
        time.Advance(TimeSpan.FromSeconds(10));
        RuleKit.Fail(breaker, 2); // trips; the server asked for 40 s, 10 of which have passed

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

        RuleKit.ExecuteFailing(breaker, new RetryAfterHintException(TimeSpan.FromSeconds(60)));
        RuleKit.Succeed(breaker, 2);
        Assert.Equal(CircuitState.Closed, breaker.State);
        RuleKit.ExecuteFailing(breaker);

        RuleKit.AssertOpenFor(breaker, time, TimeSpan.FromSeconds(60));
    }

    [Fact]
    public void RecordFailure_SeveralHintsBelowThreshold_LatestDeadlineWins()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = Create(time, o => o.FailureThreshold = 3);

        breaker.AcquirePermit().RecordFailure(new UpstreamException(), TimeSpan.FromSeconds(50));
        breaker.AcquirePermit().RecordFailure(new UpstreamException(), TimeSpan.FromSeconds(20));
        RuleKit.Fail(breaker);

        RuleKit.AssertOpenFor(breaker, time, TimeSpan.FromSeconds(50));
    }

    [Fact]
    public void RecordFailure_LaterHintFromCallFinishingWhileOpen_ExtendsOpenPeriod()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = Create(time);
        CircuitPermit slow = breaker.AcquirePermit(); // started while closed
        RuleKit.Fail(breaker);
        time.Advance(TimeSpan.FromSeconds(1));

        slow.RecordFailure(new UpstreamException("429"), TimeSpan.FromSeconds(40));

        Assert.Equal(TimeSpan.FromSeconds(40), RuleKit.Rejection(breaker).RetryAfter);
        RuleKit.AssertOpenFor(breaker, time, TimeSpan.FromSeconds(40));
    }

    [Fact]
    public async Task ExecuteAsync_HintExceptionFromCallFinishingWhileOpen_ExtendsOpenPeriod()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = Create(time);
        var upstream = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<int> inFlight = breaker.ExecuteAsync(ct => upstream.Task, TestContext.Current.CancellationToken);
        RuleKit.Fail(breaker);
        Assert.Equal(CircuitState.Open, breaker.State);

        upstream.SetException(new RetryAfterHintException(TimeSpan.FromSeconds(40)));
        await Assert.ThrowsAsync<RetryAfterHintException>(() => inFlight);

        RuleKit.AssertOpenFor(breaker, time, TimeSpan.FromSeconds(40));
    }

    [Fact]
    public void RecordFailure_EarlierHintFromCallFinishingWhileOpen_NeverShortensOpenPeriod()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = Create(time, o => o.RecoveryTimeout = TimeSpan.FromSeconds(30));
        CircuitPermit slow = breaker.AcquirePermit();
        RuleKit.Fail(breaker);

        slow.RecordFailure(new UpstreamException("429"), TimeSpan.FromSeconds(1));

        RuleKit.AssertOpenFor(breaker, time, TimeSpan.FromSeconds(30));
    }

    [Fact]
    public void RecordFailure_EarlierHintAfterLongerHint_NeverShortensOpenPeriod()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = Create(time, o => o.FailureThreshold = 2);
        CircuitPermit late = breaker.AcquirePermit();
        breaker.AcquirePermit().RecordFailure(new UpstreamException(), TimeSpan.FromSeconds(60));
        breaker.AcquirePermit().RecordFailure(new UpstreamException(), TimeSpan.FromSeconds(45)); // trips: open 60 s

        late.RecordFailure(new UpstreamException(), TimeSpan.FromSeconds(10));

        RuleKit.AssertOpenFor(breaker, time, TimeSpan.FromSeconds(60));
    }

    [Fact]
    public void RecordFailure_HugeHintFromCallFinishingWhileOpen_CappedAtMaxRecoveryTimeout()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = Create(time, o => o.MaxRecoveryTimeout = TimeSpan.FromMinutes(2));
        CircuitPermit slow = breaker.AcquirePermit();
        RuleKit.Fail(breaker);

        slow.RecordFailure(new UpstreamException("429"), TimeSpan.FromDays(3650));

        RuleKit.AssertOpenFor(breaker, time, TimeSpan.FromMinutes(2));
    }

    [Fact]
    public void RecordFailure_FailedProbeWithHint_ReopensForTheHint()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = Create(time);
        RuleKit.Fail(breaker);
        time.Advance(TimeSpan.FromSeconds(5));
        CircuitPermit probe = breaker.AcquirePermit();
        Assert.True(probe.IsProbe);

        probe.RecordFailure(new UpstreamException("429"), TimeSpan.FromSeconds(40));

        RuleKit.AssertOpenFor(breaker, time, TimeSpan.FromSeconds(40));
    }

    [Fact]
    public void TryAcquirePermit_WhileOpenForHint_ReportsRemainingTime()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = Create(time);
        breaker.AcquirePermit().RecordFailure(new UpstreamException("429"), TimeSpan.FromSeconds(40));
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

        Assert.ThrowsAny<Exception>(() => breaker.Execute(() => throw new UpstreamException()));

        Assert.Equal(CircuitState.Open, breaker.State);
        Assert.Equal(1, breaker.GetSummary().Failed);
    }

    [Fact]
    public void Execute_RetryAfterExtractorThrowsForAProbe_ProbeSlotIsNotLost()
    {
        var time = new FakeTimeProvider();
        bool extractorBroken = false;
        CircuitBreaker breaker = Create(time, o => o.RetryAfterExtractor = _ => extractorBroken ? throw new InvalidOperationException("extractor bug") : null);
        RuleKit.Fail(breaker);
        time.Advance(TimeSpan.FromSeconds(5));
        extractorBroken = true;

        Assert.ThrowsAny<Exception>(() => breaker.Execute(() => throw new UpstreamException())); // the probe fails

        // The failed probe reopens the circuit; a lost report would leave it half-open with its only slot taken.
        Assert.Equal(CircuitState.Open, breaker.State);
    }
}
