using Tripswitch;

namespace Docs.Snippets.Recovery;

internal static class Backoff
{
    public static void Run()
    {
        #region readme-backoff
        new CircuitBreakerOptions
        {
            RecoveryTimeout = TimeSpan.FromSeconds(10),
            RecoveryBackoffMultiplier = 2,                  // 10 s, 20 s, 40 s… each time a probe fails
            MaxRecoveryTimeout = TimeSpan.FromMinutes(5),   // …up to 5 minutes; closing resets it
            RecoveryJitter = 0.2,                           // ±20 %, so a fleet doesn't probe in step
            // Or compute it yourself (Polly's BreakDurationGenerator); it gets the failure that opened the circuit:
            BreakDurationGenerator = a => a.Failure is TimeoutException ? TimeSpan.FromSeconds(30) : a.ComputedDuration,
        };
        #endregion
    }
}
