namespace Tripswitch.Testing;

/// <summary>Calls through a registry's <c>Execute</c>, as an application makes them.</summary>
public static class RegistryCalls
{
    /// <summary>Runs <paramref name="times"/> successful calls on the circuit <paramref name="key"/>.</summary>
    public static void Succeed(this CircuitBreakerRegistry registry, string key, int times = 1)
    {
        ArgumentNullException.ThrowIfNull(registry);
        for (int i = 0; i < times; i++)
        {
            registry.Execute(key, static () => 1);
        }
    }

    /// <summary>
    /// Runs <paramref name="times"/> calls on the circuit <paramref name="key"/> that throw <paramref name="failure"/>
    /// (default: a <see cref="TimeoutException"/>); a rejection once the circuit opened is expected and ignored.
    /// </summary>
    public static void Fail(this CircuitBreakerRegistry registry, string key, int times = 1, Func<Exception>? failure = null)
    {
        ArgumentNullException.ThrowIfNull(registry);
        failure ??= static () => new TimeoutException("upstream timed out");
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
