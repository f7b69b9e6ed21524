using Tripswitch;

namespace Docs.Snippets.Rules;

internal static class CountWindow
{
    public static void Run()
    {
        #region readme-rule-count-window
        new CircuitBreakerOptions
        {
            Rule = FailureRule.CountWindow,
            WindowSize = 100,        // the last 100 calls
            FailureRatio = 0.5,      // open at 50 % failures…
            MinimumThroughput = 20,  // …once at least 20 calls are in the window
        };
        #endregion
    }
}
