using Microsoft.Extensions.Time.Testing;

namespace Tripswitch.Dashboard.Tests.Infrastructure;

/// <summary>Registries and calls for the tests.</summary>
internal static class Circuits
{
    public static readonly DateTimeOffset Start = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);

    public static CircuitBreakerRegistry Registry(TimeProvider time, int failureThreshold = 3, TimeSpan? recoveryTimeout = null) => new(
        new CircuitBreakerOptions
        {
            FailureThreshold = failureThreshold,
            RecoveryTimeout = recoveryTimeout ?? TimeSpan.FromSeconds(30),
            TimeProvider = time,
        });

    public static FakeTimeProvider Clock() => new(Start);

    public static void Succeed(this CircuitBreakerRegistry registry, string key, int times = 1)
    {
        for (int i = 0; i < times; i++)
        {
            registry.Execute(key, () => 1);
        }
    }

    public static void Fail(this CircuitBreakerRegistry registry, string key, int times = 1)
    {
        for (int i = 0; i < times; i++)
        {
            try
            {
                registry.Execute(key, () => throw new TimeoutException("upstream timed out (secret-token-123)"));
            }
            catch (TimeoutException)
            {
            }
            catch (CircuitOpenException)
            {
            }
        }
    }
}
