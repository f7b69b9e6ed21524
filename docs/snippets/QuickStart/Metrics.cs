using Tripswitch;

namespace Docs.Snippets.QuickStart;

internal static class Metrics
{
    public static void Run(CircuitBreaker breaker)
    {
        #region readme-metrics
        breaker.StateChanged += (_, t) => Console.WriteLine($"Circuit: {t.From} → {t.To} at {t.At:HH:mm:ss}");

        CircuitSummary s = breaker.GetSummary();
        Console.WriteLine(s); // circuit=openai state=Open consecutive_failures=3 success_rate=0.0% total=10 successful=0 failed=3 ignored=0 rejected=7 state_changes=1
        #endregion
    }
}
