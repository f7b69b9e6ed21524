using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Tripswitch.Tests;

/// <summary>The failure the tests' callbacks throw; counted as a failure unless a test's ShouldHandle says otherwise.</summary>
internal sealed class TestFailureException : Exception
{
    public TestFailureException()
        : base("boom")
    {
    }

    public TestFailureException(string message)
        : base(message)
    {
    }

    public TestFailureException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>An exception the tests configure as not handled (ShouldHandle returns false for it).</summary>
internal sealed class NotHandledException : Exception
{
    public NotHandledException()
        : base("not a failure")
    {
    }

    public NotHandledException(string message)
        : base(message)
    {
    }

    public NotHandledException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>Builds breakers on a <see cref="FakeTimeProvider"/> and drives them into a given state.</summary>
internal static class TestBreakers
{
    /// <summary>ShouldHandle that counts everything except <see cref="NotHandledException"/>.</summary>
    public static readonly Func<Exception, bool> IgnoreNotHandled = static ex => ex is not NotHandledException;

    public static CircuitBreaker Create(FakeTimeProvider time, Action<CircuitBreakerOptions>? configure = null)
    {
        var options = new CircuitBreakerOptions { Name = "test", TimeProvider = time };
        configure?.Invoke(options);
        return new CircuitBreaker(options);
    }

    /// <summary>Reports <paramref name="failures"/> failed calls through the two-step primitive.</summary>
    public static void Fail(CircuitBreaker breaker, int failures = 1)
    {
        for (int i = 0; i < failures; i++)
        {
            breaker.AcquirePermit().RecordFailure(new TestFailureException());
        }
    }

    /// <summary>Reports <paramref name="successes"/> successful calls through the two-step primitive.</summary>
    public static void Succeed(CircuitBreaker breaker, int successes = 1)
    {
        for (int i = 0; i < successes; i++)
        {
            breaker.AcquirePermit().RecordSuccess();
        }
    }

    /// <summary>Opens a closed breaker with exactly <paramref name="threshold"/> failures.</summary>
    public static void Trip(CircuitBreaker breaker, int threshold)
    {
        Assert.Equal(CircuitState.Closed, breaker.State);
        Fail(breaker, threshold);
        Assert.Equal(CircuitState.Open, breaker.State);
    }

    /// <summary>Trips a closed breaker and lets its open period pass, then reads State so it is half-open.</summary>
    public static void HalfOpen(CircuitBreaker breaker, FakeTimeProvider time, int threshold, TimeSpan recoveryTimeout)
    {
        Trip(breaker, threshold);
        time.Advance(recoveryTimeout);
        Assert.Equal(CircuitState.HalfOpen, breaker.State);
    }
}

/// <summary>Collects every transition a breaker raises, from any thread.</summary>
internal sealed class TransitionRecorder
{
    private readonly Lock _sync = new();
    private readonly List<CircuitTransition> _transitions = [];

    public TransitionRecorder(CircuitBreaker breaker)
    {
        breaker.StateChanged += (_, t) =>
        {
            lock (_sync)
            {
                _transitions.Add(t);
            }
        };
    }

    public IReadOnlyList<CircuitTransition> Transitions
    {
        get
        {
            lock (_sync)
            {
                return [.. _transitions];
            }
        }
    }

    public (CircuitState From, CircuitState To)[] Pairs => [.. Transitions.Select(t => (t.From, t.To))];
}
