using Xunit;

namespace Tripswitch.Testing;

/// <summary>
/// Calls through <c>Execute</c>, as an application makes them (so the circuit's ShouldHandle applies), on a breaker or on a
/// registry's circuit. <see cref="TestBreakers"/> drives a breaker through the permit instead, with no callback at all.
/// </summary>
public static class Calls
{
    /// <summary>A secret the registry failures' message carries, so a test can prove a page or log never shows messages.</summary>
    public const string SecretInMessage = "secret-token-123";

    /// <summary>Runs <paramref name="times"/> calls that throw an <see cref="InvalidOperationException"/> with <paramref name="message"/>; asserts each reaches the caller.</summary>
    public static void Fail(CircuitBreaker breaker, int times = 1, string message = "upstream failed")
    {
        ArgumentNullException.ThrowIfNull(breaker);
        for (int i = 0; i < times; i++)
        {
            Assert.Throws<InvalidOperationException>(() => breaker.Execute(() => throw new InvalidOperationException(message)));
        }
    }

    /// <summary>Runs <paramref name="times"/> successful calls; asserts each returns its value.</summary>
    public static void Succeed(CircuitBreaker breaker, int times = 1)
    {
        ArgumentNullException.ThrowIfNull(breaker);
        for (int i = 0; i < times; i++)
        {
            Assert.Equal(1, breaker.Execute(static () => 1));
        }
    }

    /// <summary>Asserts that <paramref name="times"/> calls are rejected with <see cref="CircuitOpenException"/> without running.</summary>
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

    /// <summary>How many consecutive failing calls open a closed circuit (up to <paramref name="max"/>; -1 when it never opens).</summary>
    public static int FailuresToOpen(CircuitBreaker breaker, int max = 50)
    {
        ArgumentNullException.ThrowIfNull(breaker);
        for (int i = 1; i <= max; i++)
        {
            Fail(breaker);
            if (breaker.State == CircuitState.Open)
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>Runs <paramref name="times"/> successful calls on the registry's circuit <paramref name="key"/>.</summary>
    public static void Succeed(this CircuitBreakerRegistry registry, string key, int times = 1)
    {
        ArgumentNullException.ThrowIfNull(registry);
        for (int i = 0; i < times; i++)
        {
            registry.Execute(key, static () => 1);
        }
    }

    /// <summary>
    /// Runs <paramref name="times"/> calls on the registry's circuit <paramref name="key"/> that throw
    /// <paramref name="failure"/> (default: a <see cref="TimeoutException"/> whose message carries <see cref="SecretInMessage"/>);
    /// the failure and, once the circuit opened, the rejection are expected and not rethrown.
    /// </summary>
    public static void Fail(this CircuitBreakerRegistry registry, string key, int times = 1, Func<Exception>? failure = null)
    {
        ArgumentNullException.ThrowIfNull(registry);
        failure ??= static () => new TimeoutException($"upstream timed out ({SecretInMessage})");
        for (int i = 0; i < times; i++)
        {
            try
            {
                registry.Execute(key, () => throw failure());
            }
            catch (CircuitOpenException)
            {
            }
#pragma warning disable CA1031 // the failure is the one this helper made the call throw
            catch (Exception)
#pragma warning restore CA1031
            {
            }
        }
    }
}
