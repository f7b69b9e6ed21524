using Tripswitch;

namespace Docs.Snippets.QuickStart;

internal static class Fallback
{
    public static void Run(CircuitBreaker breaker, ICompletionClient client)
    {
        #region readme-fallback
        string answer = breaker.Execute(
            () => client.Complete("Hello"),
            fallback: reason => "I'm temporarily unavailable. Please try again later.");
        #endregion
    }
}
