using Tripswitch;

namespace Docs.Snippets.Rules;

internal static class SlowCalls
{
    public static void Run()
    {
        #region readme-slow-calls
        new CircuitBreakerOptions { SlowCallThreshold = TimeSpan.FromSeconds(20) };
        #endregion
    }
}
