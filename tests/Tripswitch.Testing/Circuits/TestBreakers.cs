using System.Runtime.CompilerServices;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Tripswitch.Testing;

/// <summary>
/// Fake-time circuits: breakers and registries on a <see cref="FakeTimeProvider"/>, and the helpers that drive them into a
/// state through the two-step primitive (acquire a permit, report its outcome), so no callback or real time is involved.
/// </summary>
public static class TestBreakers
{
    /// <summary>The instant every <see cref="Clock"/> starts at (a fixed date, so tests read the same every run).</summary>
    public static readonly DateTimeOffset Start = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);

    /// <summary>ShouldHandle that counts everything except <see cref="NotHandledException"/>.</summary>
    public static readonly Func<Exception, bool> IgnoreNotHandled = static ex => ex is not NotHandledException;

    /// <summary>A fake clock at <see cref="Start"/>.</summary>
    public static FakeTimeProvider Clock() => new(Start);

    /// <summary>A breaker named "test" on <paramref name="time"/>, with the library's defaults unless <paramref name="configure"/> changes them.</summary>
    public static CircuitBreaker Create(FakeTimeProvider time, Action<CircuitBreakerOptions>? configure = null)
        => new(Options(time, "test", configure));

    /// <summary>A circuit name unique to the test and the run: the Meter is process-wide and tests run in parallel.</summary>
    public static string UniqueName([CallerMemberName] string test = "") => $"{test}-{Guid.NewGuid():N}";

    /// <summary>Options on <paramref name="time"/> named <see cref="UniqueName"/>, then <paramref name="configure"/>.</summary>
    public static CircuitBreakerOptions UniqueOptions(FakeTimeProvider time, Action<CircuitBreakerOptions>? configure = null, [CallerMemberName] string test = "")
        => Options(time, UniqueName(test), configure);

    /// <summary>A breaker on <paramref name="time"/> named <see cref="UniqueName"/> (for tests that read process-wide telemetry).</summary>
    public static CircuitBreaker CreateUnique(FakeTimeProvider time, Action<CircuitBreakerOptions>? configure = null, [CallerMemberName] string test = "")
        => new(UniqueOptions(time, configure, test));

    /// <summary>A registry whose circuits run on <paramref name="time"/>, with defaults <paramref name="configure"/> may change.</summary>
    public static CircuitBreakerRegistry Registry(TimeProvider time, Action<CircuitBreakerOptions>? configure = null)
        => new(Options(time, name: null, configure));

    /// <summary>Options on <paramref name="time"/>, named <paramref name="name"/> when given, then <paramref name="configure"/>.</summary>
    public static CircuitBreakerOptions Options(TimeProvider time, string? name = null, Action<CircuitBreakerOptions>? configure = null)
    {
        var options = new CircuitBreakerOptions { TimeProvider = time };
        if (name is not null)
        {
            options.Name = name;
        }

        configure?.Invoke(options);
        return options;
    }

    /// <summary>Reports <paramref name="failures"/> failed calls through the two-step primitive, each with <paramref name="exception"/> (default: a new <see cref="TestFailureException"/>).</summary>
    public static void Fail(CircuitBreaker breaker, int failures = 1, Exception? exception = null)
    {
        ArgumentNullException.ThrowIfNull(breaker);
        for (int i = 0; i < failures; i++)
        {
            breaker.AcquirePermit().RecordFailure(exception ?? new TestFailureException());
        }
    }

    /// <summary>Reports <paramref name="successes"/> successful calls through the two-step primitive.</summary>
    public static void Succeed(CircuitBreaker breaker, int successes = 1)
    {
        ArgumentNullException.ThrowIfNull(breaker);
        for (int i = 0; i < successes; i++)
        {
            breaker.AcquirePermit().RecordSuccess();
        }
    }

    /// <summary>Opens a closed breaker with exactly <paramref name="threshold"/> failures (asserts it was closed and is open).</summary>
    public static void Trip(CircuitBreaker breaker, int threshold)
    {
        ArgumentNullException.ThrowIfNull(breaker);
        Assert.Equal(CircuitState.Closed, breaker.State);
        Fail(breaker, threshold);
        Assert.Equal(CircuitState.Open, breaker.State);
    }

    /// <summary>Trips a closed breaker and lets its open period pass, then reads State so it is half-open.</summary>
    public static void HalfOpen(CircuitBreaker breaker, FakeTimeProvider time, int threshold, TimeSpan recoveryTimeout)
    {
        ArgumentNullException.ThrowIfNull(breaker);
        ArgumentNullException.ThrowIfNull(time);
        Trip(breaker, threshold);
        time.Advance(recoveryTimeout);
        Assert.Equal(CircuitState.HalfOpen, breaker.State);
    }

    /// <summary>Runs one call through <see cref="CircuitBreaker.Execute(Action)"/> that throws, and checks the failure reached the caller.</summary>
    public static void ExecuteFailing(CircuitBreaker breaker, Exception? exception = null)
    {
        ArgumentNullException.ThrowIfNull(breaker);
        Exception thrown = exception ?? new TestFailureException();
        Exception caught = Assert.ThrowsAny<Exception>(() => breaker.Execute(() => throw thrown));
        Assert.Same(thrown, caught);
    }

    /// <summary>Runs one call through <see cref="CircuitBreaker.ExecuteAsync(Func{CancellationToken, ValueTask}, CancellationToken)"/> that fails after yielding.</summary>
    public static async Task ExecuteFailingAsync(CircuitBreaker breaker, Exception? exception = null)
    {
        ArgumentNullException.ThrowIfNull(breaker);
        Exception thrown = exception ?? new TestFailureException();
        Exception caught = await Assert.ThrowsAnyAsync<Exception>(async () => await breaker.ExecuteAsync(
            async ct =>
            {
                await Task.Yield();
                throw thrown;
            },
            TestContext.Current.CancellationToken));
        Assert.Same(thrown, caught);
    }

    /// <summary>Checks that the circuit is open now and stays open exactly <paramref name="period"/>: open one tick before, half-open at it.</summary>
    public static void AssertOpenFor(CircuitBreaker breaker, FakeTimeProvider time, TimeSpan period)
    {
        ArgumentNullException.ThrowIfNull(breaker);
        ArgumentNullException.ThrowIfNull(time);
        Assert.Equal(CircuitState.Open, breaker.State);
        Assert.Equal(period, breaker.GetSummary().RetryAfter);
        time.Advance(period - TimeSpan.FromTicks(1));
        Assert.Equal(CircuitState.Open, breaker.State);
        time.Advance(TimeSpan.FromTicks(1));
        Assert.Equal(CircuitState.HalfOpen, breaker.State);
    }

    /// <summary>The rejection a caller gets now (fails the test when a permit is granted).</summary>
    public static CircuitOpenException Rejection(CircuitBreaker breaker)
    {
        ArgumentNullException.ThrowIfNull(breaker);
        return Assert.Throws<CircuitOpenException>(() => breaker.AcquirePermit());
    }
}
