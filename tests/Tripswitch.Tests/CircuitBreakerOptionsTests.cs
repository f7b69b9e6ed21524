using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Tripswitch.Tests;

public class CircuitBreakerOptionsTests
{
    [Fact]
    public void Ctor_Defaults()
    {
        var options = new CircuitBreakerOptions();

        Assert.Equal("default", options.Name);
        Assert.Equal(5, options.FailureThreshold);
        Assert.Equal(TimeSpan.FromSeconds(60), options.RecoveryTimeout);
        Assert.Equal(2, options.SuccessThreshold);
        Assert.Equal(1, options.HalfOpenMaxCalls);
        Assert.Same(TimeProvider.System, options.TimeProvider);
        Assert.Null(options.ShouldHandle);
        Assert.False(options.FallbackOnFailure);
    }

    [Fact]
    public void Ctor_DefaultsDriveTheBreaker_FiveFailuresSixtySecondsTwoSuccessesOneProbe()
    {
        // Every default except the clock, observed through behaviour rather than property values.
        var time = new FakeTimeProvider();
        var breaker = new CircuitBreaker(new CircuitBreakerOptions { TimeProvider = time });
        Assert.Equal("default", breaker.Name);

        TestBreakers.Fail(breaker, 4);
        Assert.Equal(CircuitState.Closed, breaker.State);
        TestBreakers.Fail(breaker);
        Assert.Equal(CircuitState.Open, breaker.State);

        time.Advance(TimeSpan.FromSeconds(60) - TimeSpan.FromTicks(1));
        Assert.Equal(CircuitState.Open, breaker.State);
        time.Advance(TimeSpan.FromTicks(1));
        Assert.Equal(CircuitState.HalfOpen, breaker.State);

        CircuitPermit probe = breaker.AcquirePermit();
        Assert.False(breaker.TryAcquirePermit(out _, out _)); // one probe at a time
        probe.RecordSuccess();
        Assert.Equal(CircuitState.HalfOpen, breaker.State); // two successes needed
        TestBreakers.Succeed(breaker);
        Assert.Equal(CircuitState.Closed, breaker.State);

        // No ShouldHandle: every exception counts, even one a predicate would typically exclude.
        Assert.Throws<ArgumentException>(() => breaker.Execute(() => throw new ArgumentException("bad")));
        Assert.Equal(1, breaker.GetSummary().ConsecutiveFailures);
    }

    [Fact]
    public void Ctor_NullOptions_UsesDefaultNameAndSystemClock()
    {
        var breaker = new CircuitBreaker();

        Assert.Equal("default", breaker.Name);
        Assert.Equal(CircuitState.Closed, breaker.State);
        TestBreakers.Fail(breaker, 5);
        CircuitOpenException rejected = Assert.Throws<CircuitOpenException>(() => breaker.Execute(() => 1));

        // Real clock: only a few instants have passed since the trip, so almost all of the 60 s default remain.
        Assert.InRange(rejected.RetryAfter, TimeSpan.FromSeconds(50), TimeSpan.FromSeconds(60));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(1_000_001)]
    [InlineData(int.MinValue)]
    [InlineData(int.MaxValue)]
    public void Ctor_FailureThresholdOutOfRange_ThrowsNamingTheOption(int value)
    {
        var options = new CircuitBreakerOptions { FailureThreshold = value };

        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new CircuitBreaker(options));

        Assert.Equal("FailureThreshold", ex.ParamName);
        Assert.StartsWith($"CircuitBreakerOptions.FailureThreshold must be between 1 and 1000000; it was {value}.", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(1_000_001)]
    public void Ctor_SuccessThresholdOutOfRange_ThrowsNamingTheOption(int value)
    {
        var options = new CircuitBreakerOptions { SuccessThreshold = value };

        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new CircuitBreaker(options));

        Assert.Equal("SuccessThreshold", ex.ParamName);
        Assert.StartsWith($"CircuitBreakerOptions.SuccessThreshold must be between 1 and 1000000; it was {value}.", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(1001)]
    public void Ctor_HalfOpenMaxCallsOutOfRange_ThrowsNamingTheOption(int value)
    {
        var options = new CircuitBreakerOptions { HalfOpenMaxCalls = value };

        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new CircuitBreaker(options));

        Assert.Equal("HalfOpenMaxCalls", ex.ParamName);
        Assert.StartsWith($"CircuitBreakerOptions.HalfOpenMaxCalls must be between 1 and 1000; it was {value}.", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0L)] // TimeSpan.Zero
    [InlineData(-1L)]
    [InlineData(9_999L)] // one tick under 1 ms
    [InlineData(864_000_000_001L)] // one tick over 1 day
    [InlineData(long.MaxValue)]
    public void Ctor_RecoveryTimeoutOutOfRange_ThrowsNamingTheOption(long ticks)
    {
        var options = new CircuitBreakerOptions { RecoveryTimeout = TimeSpan.FromTicks(ticks) };

        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new CircuitBreaker(options));

        Assert.Equal("RecoveryTimeout", ex.ParamName);
        Assert.Contains("CircuitBreakerOptions.RecoveryTimeout must be between", ex.Message, StringComparison.Ordinal);
        Assert.Equal(TimeSpan.FromTicks(ticks), ex.ActualValue);
    }

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData("\t\n")]
    [InlineData(null)]
    public void Ctor_EmptyOrWhiteSpaceName_ThrowsArgumentExceptionNamingTheOption(string? name)
    {
        var options = new CircuitBreakerOptions { Name = name! };

        var ex = Assert.Throws<ArgumentException>(() => new CircuitBreaker(options));

        Assert.Equal("Name", ex.ParamName);
        Assert.Contains("CircuitBreakerOptions.Name", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Ctor_NullTimeProvider_ThrowsArgumentNullExceptionNamingTheOption()
    {
        var options = new CircuitBreakerOptions { TimeProvider = null! };

        var ex = Assert.Throws<ArgumentNullException>(() => new CircuitBreaker(options));

        Assert.Equal("TimeProvider", ex.ParamName);
        Assert.Contains("CircuitBreakerOptions.TimeProvider", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_InvalidOptions_ThrowsSameAsConstructor()
    {
        var options = new CircuitBreakerOptions { SuccessThreshold = 0 };

        var ex = Assert.Throws<ArgumentOutOfRangeException>(options.Validate);

        Assert.Equal("SuccessThreshold", ex.ParamName);
    }

    [Fact]
    public void Validate_CultureWithOtherDigits_MessageUsesInvariantCulture()
    {
        System.Globalization.CultureInfo saved = System.Globalization.CultureInfo.CurrentCulture;
        try
        {
            System.Globalization.CultureInfo.CurrentCulture = new System.Globalization.CultureInfo("de-DE");
            var options = new CircuitBreakerOptions { FailureThreshold = 1_000_001 };

            var ex = Assert.Throws<ArgumentOutOfRangeException>(options.Validate);

            Assert.StartsWith("CircuitBreakerOptions.FailureThreshold must be between 1 and 1000000; it was 1000001.", ex.Message, StringComparison.Ordinal);
        }
        finally
        {
            System.Globalization.CultureInfo.CurrentCulture = saved;
        }
    }

    [Fact]
    public void Ctor_FailureThresholdBoundaries_OneTripsOnFirstFailureAndMaxTripsOnMillionth()
    {
        var time = new FakeTimeProvider();
        var one = TestBreakers.Create(time, o => o.FailureThreshold = 1);
        TestBreakers.Fail(one);
        Assert.Equal(CircuitState.Open, one.State);

        var max = TestBreakers.Create(time, o => o.FailureThreshold = 1_000_000);
        TestBreakers.Fail(max, 999_999);
        Assert.Equal(CircuitState.Closed, max.State);
        Assert.Equal(999_999, max.GetSummary().ConsecutiveFailures);
        TestBreakers.Fail(max);
        Assert.Equal(CircuitState.Open, max.State);
    }

    [Fact]
    public void Ctor_RecoveryTimeoutBoundaries_OneMillisecondAndOneDayAreHonouredExactly()
    {
        var time = new FakeTimeProvider();
        var shortest = TestBreakers.Create(time, o => { o.FailureThreshold = 1; o.RecoveryTimeout = TimeSpan.FromMilliseconds(1); });
        var longest = TestBreakers.Create(time, o => { o.FailureThreshold = 1; o.RecoveryTimeout = TimeSpan.FromDays(1); });
        TestBreakers.Fail(shortest);
        TestBreakers.Fail(longest);

        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(CircuitState.HalfOpen, shortest.State);
        Assert.Equal(CircuitState.Open, longest.State);

        time.Advance(TimeSpan.FromDays(1) - TimeSpan.FromMilliseconds(1) - TimeSpan.FromTicks(1));
        Assert.Equal(CircuitState.Open, longest.State);
        time.Advance(TimeSpan.FromTicks(1));
        Assert.Equal(CircuitState.HalfOpen, longest.State);
    }

    [Fact]
    public void Ctor_HalfOpenMaxCallsMax_AdmitsThousandProbesAndRejectsTheNext()
    {
        var time = new FakeTimeProvider();
        var breaker = TestBreakers.Create(time, o => { o.FailureThreshold = 1; o.HalfOpenMaxCalls = 1000; });
        TestBreakers.HalfOpen(breaker, time, 1, TimeSpan.FromSeconds(60));

        var probes = new List<CircuitPermit>();
        for (int i = 0; i < 1000; i++)
        {
            Assert.True(breaker.TryAcquirePermit(out CircuitPermit probe, out _));
            Assert.True(probe.IsProbe);
            probes.Add(probe);
        }

        Assert.False(breaker.TryAcquirePermit(out _, out TimeSpan retryAfter));
        Assert.Equal(TimeSpan.Zero, retryAfter);
    }

    [Fact]
    public void Ctor_SuccessThresholdMax_IsAcceptedAndStillRequiresThatManyProbes()
    {
        var time = new FakeTimeProvider();
        var breaker = TestBreakers.Create(time, o => { o.FailureThreshold = 1; o.SuccessThreshold = 1_000_000; });
        TestBreakers.HalfOpen(breaker, time, 1, TimeSpan.FromSeconds(60));

        TestBreakers.Succeed(breaker, 999_999);
        Assert.Equal(CircuitState.HalfOpen, breaker.State);
        TestBreakers.Succeed(breaker);
        Assert.Equal(CircuitState.Closed, breaker.State);
    }

    [Fact]
    public void Ctor_OptionsMutatedAfterConstruction_BreakerKeepsItsCopy()
    {
        var time = new FakeTimeProvider();
        var otherTime = new FakeTimeProvider();
        var options = new CircuitBreakerOptions
        {
            Name = "original",
            FailureThreshold = 3,
            RecoveryTimeout = TimeSpan.FromSeconds(10),
            SuccessThreshold = 2,
            HalfOpenMaxCalls = 1,
            TimeProvider = time,
            ShouldHandle = TestBreakers.IgnoreNotHandled,
            FallbackOnFailure = false,
        };
        var breaker = new CircuitBreaker(options);

        options.Name = "changed";
        options.FailureThreshold = 1;
        options.RecoveryTimeout = TimeSpan.FromDays(1);
        options.SuccessThreshold = 1;
        options.HalfOpenMaxCalls = 5;
        options.TimeProvider = otherTime;
        options.ShouldHandle = static _ => false;
        options.FallbackOnFailure = true;

        Assert.Equal("original", breaker.Name);

        // ShouldHandle still the original: NotHandledException is ignored, TestFailureException counts.
        Assert.Throws<NotHandledException>(() => breaker.Execute(() => throw new NotHandledException()));
        Assert.Equal(0, breaker.GetSummary().ConsecutiveFailures);

        // FallbackOnFailure still false: a failure is rethrown, not handed to the fallback.
        Assert.Throws<TestFailureException>(() => breaker.Execute<int>(() => throw new TestFailureException(), _ => 42));
        TestBreakers.Fail(breaker);
        Assert.Equal(CircuitState.Closed, breaker.State); // threshold still 3, not 1
        TestBreakers.Fail(breaker);
        Assert.Equal(CircuitState.Open, breaker.State);

        otherTime.Advance(TimeSpan.FromDays(2)); // not the breaker's clock
        Assert.Equal(CircuitState.Open, breaker.State);
        time.Advance(TimeSpan.FromSeconds(10)); // recovery still 10 s
        Assert.Equal(CircuitState.HalfOpen, breaker.State);

        CircuitPermit probe = breaker.AcquirePermit();
        Assert.False(breaker.TryAcquirePermit(out _, out _)); // still one probe
        probe.RecordSuccess();
        Assert.Equal(CircuitState.HalfOpen, breaker.State); // still two successes
        TestBreakers.Succeed(breaker);
        Assert.Equal(CircuitState.Closed, breaker.State);
    }

    [Fact]
    public void Ctor_DoesNotModifyTheCallersOptions()
    {
        var time = new FakeTimeProvider();
        var options = new CircuitBreakerOptions { Name = "mine", FailureThreshold = 7, TimeProvider = time };

        _ = new CircuitBreaker(options);

        Assert.Equal("mine", options.Name);
        Assert.Equal(7, options.FailureThreshold);
        Assert.Same(time, options.TimeProvider);
    }

    [Fact]
    public void Clone_CopiesEveryValueIntoAnIndependentObject()
    {
        var time = new FakeTimeProvider();
        Func<Exception, bool> shouldHandle = TestBreakers.IgnoreNotHandled;
        var options = new CircuitBreakerOptions
        {
            Name = "n",
            FailureThreshold = 9,
            RecoveryTimeout = TimeSpan.FromSeconds(3),
            SuccessThreshold = 4,
            HalfOpenMaxCalls = 6,
            TimeProvider = time,
            ShouldHandle = shouldHandle,
            FallbackOnFailure = true,
        };

        CircuitBreakerOptions clone = options.Clone();
        options.FailureThreshold = 1;

        Assert.NotSame(options, clone);
        Assert.Equal("n", clone.Name);
        Assert.Equal(9, clone.FailureThreshold);
        Assert.Equal(TimeSpan.FromSeconds(3), clone.RecoveryTimeout);
        Assert.Equal(4, clone.SuccessThreshold);
        Assert.Equal(6, clone.HalfOpenMaxCalls);
        Assert.Same(time, clone.TimeProvider);
        Assert.Same(shouldHandle, clone.ShouldHandle);
        Assert.True(clone.FallbackOnFailure);
    }
}
