using System.Collections.Concurrent;
using Microsoft.Extensions.Time.Testing;
using Tripswitch.Tests.Health;
using Xunit;

namespace Tripswitch.Tests.Controller;

public class BreakDurationGeneratorTests
{
    [Fact]
    public void Execute_Generator_ReceivesNameAttemptComputedDurationAndFailure()
    {
        var time = new FakeTimeProvider();
        var seen = new ConcurrentQueue<BreakDurationArguments>();
        CircuitBreaker breaker = TestBreakers.CreateUnique(time, o =>
        {
            o.FailureThreshold = 1;
            o.SuccessThreshold = 1;
            o.RecoveryTimeout = TimeSpan.FromSeconds(10);
            o.RecoveryBackoffMultiplier = 2;
            o.BreakDurationGenerator = args =>
            {
                seen.Enqueue(args);
                return TimeSpan.FromSeconds(3);
            };
        });
        var failures = new[] { new TestFailureException("one"), new TestFailureException("two"), new TestFailureException("three") };

        TestBreakers.ExecuteFailing(breaker, failures[0]);
        TestBreakers.AssertOpenFor(breaker, time, TimeSpan.FromSeconds(3));
        TestBreakers.ExecuteFailing(breaker, failures[1]);
        TestBreakers.AssertOpenFor(breaker, time, TimeSpan.FromSeconds(3));
        TestBreakers.ExecuteFailing(breaker, failures[2]);
        TestBreakers.AssertOpenFor(breaker, time, TimeSpan.FromSeconds(3));

        BreakDurationArguments[] args = [.. seen];
        Assert.Equal(3, args.Length);
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(breaker.Name, args[i].CircuitName);
            Assert.Equal(i + 1, args[i].OpenAttempt);
            Assert.Same(failures[i], args[i].Failure);
        }

        Assert.Equal(TimeSpan.FromSeconds(10), args[0].ComputedDuration);
        Assert.Equal(TimeSpan.FromSeconds(20), args[1].ComputedDuration);
        Assert.Equal(TimeSpan.FromSeconds(40), args[2].ComputedDuration);
    }

    [Fact]
    public async Task ExecuteAsync_CircuitClosesBetweenOpenings_OpenAttemptStartsAtOneAgain()
    {
        var time = new FakeTimeProvider();
        var attempts = new ConcurrentQueue<int>();
        CircuitBreaker breaker = TestBreakers.CreateUnique(time, o =>
        {
            o.FailureThreshold = 1;
            o.SuccessThreshold = 1;
            o.RecoveryTimeout = TimeSpan.FromSeconds(10);
            o.BreakDurationGenerator = args =>
            {
                attempts.Enqueue(args.OpenAttempt);
                return args.ComputedDuration;
            };
        });

        await TestBreakers.ExecuteFailingAsync(breaker);
        time.Advance(TimeSpan.FromSeconds(10));
        await TestBreakers.ExecuteFailingAsync(breaker); // failed probe: attempt 2
        time.Advance(TimeSpan.FromSeconds(10));
        await breaker.ExecuteAsync(async ct => await Task.Yield(), TestContext.Current.CancellationToken); // closes
        Assert.Equal(CircuitState.Closed, breaker.State);
        await TestBreakers.ExecuteFailingAsync(breaker);

        Assert.Equal([1, 2, 1], attempts);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5000)]
    public void Execute_GeneratorReturnsZeroOrNegative_ClampedToOneMillisecond(int milliseconds)
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = TestBreakers.CreateUnique(time, o =>
        {
            o.FailureThreshold = 1;
            o.BreakDurationGenerator = _ => TimeSpan.FromMilliseconds(milliseconds);
        });

        TestBreakers.Fail(breaker);

        TestBreakers.AssertOpenFor(breaker, time, TimeSpan.FromMilliseconds(1));
    }

    [Fact]
    public void Execute_GeneratorReturnsMoreThanMax_ClampedToMaxRecoveryTimeout()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = TestBreakers.CreateUnique(time, o =>
        {
            o.FailureThreshold = 1;
            o.MaxRecoveryTimeout = TimeSpan.FromMinutes(30);
            o.BreakDurationGenerator = _ => TimeSpan.FromDays(365);
        });

        TestBreakers.Fail(breaker);

        TestBreakers.AssertOpenFor(breaker, time, TimeSpan.FromMinutes(30));
    }

    [Fact]
    public void Execute_GeneratorReturnsMoreThanDefaultMax_ClampedToTenMinutes()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = TestBreakers.CreateUnique(time, o =>
        {
            o.FailureThreshold = 1;
            o.BreakDurationGenerator = _ => TimeSpan.MaxValue;
        });

        TestBreakers.Fail(breaker);

        TestBreakers.AssertOpenFor(breaker, time, TimeSpan.FromMinutes(10));
    }

    [Fact]
    public void Execute_GeneratorThrows_ComputedPeriodIsUsedAndTheCallersFailureSurfaces()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = TestBreakers.CreateUnique(time, o =>
        {
            o.FailureThreshold = 1;
            o.RecoveryTimeout = TimeSpan.FromSeconds(10);
            o.RecoveryBackoffMultiplier = 2;
            o.BreakDurationGenerator = _ => throw new InvalidOperationException("generator bug");
        });

        TestBreakers.ExecuteFailing(breaker); // the caller sees its own failure, not the generator's
        TestBreakers.AssertOpenFor(breaker, time, TimeSpan.FromSeconds(10));
        TestBreakers.ExecuteFailing(breaker);

        TestBreakers.AssertOpenFor(breaker, time, TimeSpan.FromSeconds(20));
    }

    [Fact]
    public void AcquirePermit_ProbeTimesOut_GeneratorGetsTimeoutExceptionAsFailure()
    {
        var time = new FakeTimeProvider();
        var seen = new ConcurrentQueue<BreakDurationArguments>();
        CircuitBreaker breaker = TestBreakers.CreateUnique(time, o =>
        {
            o.FailureThreshold = 1;
            o.RecoveryTimeout = TimeSpan.FromSeconds(10);
            o.HalfOpenProbeTimeout = TimeSpan.FromSeconds(30);
            o.BreakDurationGenerator = args =>
            {
                seen.Enqueue(args);
                return TimeSpan.FromSeconds(7);
            };
        });
        TestBreakers.Fail(breaker);
        time.Advance(TimeSpan.FromSeconds(7));
        _ = breaker.AcquirePermit(); // hung probe

        time.Advance(TimeSpan.FromSeconds(30));

        TestBreakers.AssertOpenFor(breaker, time, TimeSpan.FromSeconds(7));
        BreakDurationArguments last = seen.Last();
        Assert.Equal(2, last.OpenAttempt);
        Assert.IsType<TimeoutException>(last.Failure);
    }

    [Fact]
    public void RecordFailure_GeneratorShorterThanRetryAfterHint_HintWins()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = TestBreakers.CreateUnique(time, o =>
        {
            o.FailureThreshold = 1;
            o.BreakDurationGenerator = _ => TimeSpan.FromSeconds(2);
        });

        breaker.AcquirePermit().RecordFailure(new TestFailureException(), TimeSpan.FromSeconds(30));

        TestBreakers.AssertOpenFor(breaker, time, TimeSpan.FromSeconds(30));
    }

    [Fact]
    public void RecordFailure_TwoConcurrentProbesBothFail_GeneratorCalledOncePerActualOpening()
    {
        // With two probe slots both probes fail; the first reopens the circuit, the second finds its half-open period
        // over and changes nothing. The generator must see the openings that happen: attempts 1 and 2, not a third.
        var time = new FakeTimeProvider();
        var attempts = new ConcurrentQueue<int>();
        CircuitBreaker breaker = TestBreakers.CreateUnique(time, o =>
        {
            o.FailureThreshold = 1;
            o.HalfOpenMaxCalls = 2;
            o.RecoveryTimeout = TimeSpan.FromSeconds(10);
            o.BreakDurationGenerator = args =>
            {
                attempts.Enqueue(args.OpenAttempt);
                return args.ComputedDuration;
            };
        });
        var log = new TransitionRecorder(breaker);
        TestBreakers.Fail(breaker);
        time.Advance(TimeSpan.FromSeconds(10));
        CircuitPermit first = breaker.AcquirePermit();
        CircuitPermit second = breaker.AcquirePermit();

        first.RecordFailure(new TestFailureException());
        second.RecordFailure(new TestFailureException());

        Assert.Equal(2, log.Pairs.Count(s => s.To == CircuitState.Open));
        Assert.Equal([1, 2], attempts);
    }
}
