using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Tripswitch.Tests.Health;

/// <summary>Helpers shared by the rule, recovery and telemetry tests (distinct names from the core tests' helpers).</summary>
internal static class RuleKit
{
    /// <summary>A circuit name unique to the test and the run: the Meter is process-wide and tests run in parallel.</summary>
    public static string UniqueName([CallerMemberName] string test = "") => $"{test}-{Guid.NewGuid():N}";

    /// <summary>Options on a fake clock with a unique name; <paramref name="configure"/> sets the rest.</summary>
    public static CircuitBreakerOptions Options(FakeTimeProvider time, Action<CircuitBreakerOptions>? configure = null, [CallerMemberName] string test = "")
    {
        var options = new CircuitBreakerOptions { Name = UniqueName(test), TimeProvider = time };
        configure?.Invoke(options);
        return options;
    }

    public static CircuitBreaker Create(FakeTimeProvider time, Action<CircuitBreakerOptions>? configure = null, [CallerMemberName] string test = "")
        => new(Options(time, configure, test));

    /// <summary>Reports <paramref name="count"/> handled failures through permits.</summary>
    public static void Fail(CircuitBreaker breaker, int count = 1, Exception? exception = null)
    {
        for (int i = 0; i < count; i++)
        {
            breaker.AcquirePermit().RecordFailure(exception ?? new UpstreamException());
        }
    }

    /// <summary>Reports <paramref name="count"/> successes through permits.</summary>
    public static void Succeed(CircuitBreaker breaker, int count = 1)
    {
        for (int i = 0; i < count; i++)
        {
            breaker.AcquirePermit().RecordSuccess();
        }
    }

    /// <summary>Runs one call through <see cref="CircuitBreaker.Execute(Action)"/> that throws, and checks the failure reached the caller.</summary>
    public static void ExecuteFailing(CircuitBreaker breaker, Exception? exception = null)
    {
        Exception thrown = exception ?? new UpstreamException();
        Exception caught = Assert.ThrowsAny<Exception>(() => breaker.Execute(() => throw thrown));
        Assert.Same(thrown, caught);
    }

    /// <summary>Runs one call through <see cref="CircuitBreaker.ExecuteAsync(Func{CancellationToken, ValueTask}, CancellationToken)"/> that fails after yielding.</summary>
    public static async Task ExecuteFailingAsync(CircuitBreaker breaker, Exception? exception = null)
    {
        Exception thrown = exception ?? new UpstreamException();
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
        Assert.Equal(CircuitState.Open, breaker.State);
        Assert.Equal(period, breaker.GetSummary().RetryAfter);
        time.Advance(period - TimeSpan.FromTicks(1));
        Assert.Equal(CircuitState.Open, breaker.State);
        time.Advance(TimeSpan.FromTicks(1));
        Assert.Equal(CircuitState.HalfOpen, breaker.State);
    }

    /// <summary>The rejection a caller gets now.</summary>
    public static CircuitOpenException Rejection(CircuitBreaker breaker)
        => Assert.Throws<CircuitOpenException>(() => breaker.AcquirePermit());
}

/// <summary>The failure the tests' upstream throws.</summary>
public sealed class UpstreamException : Exception
{
    public UpstreamException()
        : base("upstream failed")
    {
    }

    public UpstreamException(string message)
        : base(message)
    {
    }

    public UpstreamException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>A failure that carries a server's Retry-After (like a 429).</summary>
public sealed class RetryAfterHintException : Exception, IRetryAfterHint
{
    public RetryAfterHintException()
        : base("429 Too Many Requests")
    {
    }

    public RetryAfterHintException(string message)
        : base(message)
    {
    }

    public RetryAfterHintException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public RetryAfterHintException(TimeSpan? retryAfter)
        : base("429 Too Many Requests")
    {
        RetryAfter = retryAfter;
    }

    public TimeSpan? RetryAfter { get; }
}

/// <summary>Records <see cref="CircuitBreaker.StateChanged"/> (thread-safe: telemetry collection in other tests may perform a due transition on its own thread).</summary>
internal sealed class TransitionLog
{
    private readonly ConcurrentQueue<CircuitTransition> _seen = new();

    public TransitionLog(CircuitBreaker breaker)
    {
        breaker.StateChanged += (_, transition) => _seen.Enqueue(transition);
    }

    public IReadOnlyList<CircuitTransition> All => [.. _seen];

    public IReadOnlyList<(CircuitState From, CircuitState To)> Steps => [.. _seen.Select(t => (t.From, t.To))];
}
