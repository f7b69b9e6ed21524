using Tripswitch;

namespace Docs.Snippets.Rules;

internal static class TimeWindow
{
    public static void Run()
    {
        #region readme-rule-time-window
        new CircuitBreakerOptions
        {
            Rule = FailureRule.TimeWindow,
            SamplingDuration = TimeSpan.FromSeconds(30), // in 10 buckets that roll over
            FailureRatio = 0.1,
            MinimumThroughput = 100,
        };
        #endregion
    }
}
