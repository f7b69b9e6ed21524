using Tripswitch;

namespace Docs.Snippets.Rules;

internal static class Consecutive
{
    public static void Run()
    {
        #region readme-rule-consecutive
        new CircuitBreakerOptions { FailureThreshold = 5 }; // 5 handled failures in a row; a success resets the count
        #endregion
    }
}
