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

    /// <summary>Reports <paramref name="failures"/> failed calls through the two-step primitive.</summary>
    public static void Fail(CircuitBreaker breaker, int failures = 1)
    {
        ArgumentNullException.ThrowIfNull(breaker);
        for (int i = 0; i < failures; i++)
        {
            breaker.AcquirePermit().RecordFailure(new TestFailureException());
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

    /// <summary>Asserts that <paramref name="times"/> calls through <c>Execute</c> are rejected without running.</summary>
    public static void Rejected(CircuitBreaker breaker, int times = 1)
    {
        ArgumentNullException.ThrowIfNull(breaker);
        for (int i = 0; i < times; i++)
        {
            bool ran = false;
            Assert.Throws<CircuitOpenException>(() => breaker.Execute(() => ran = true));
            Assert.False(ran, "A rejected call must not run its callback.");
        }
    }
}
