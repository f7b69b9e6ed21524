#region readme-basic-breaker
using Tripswitch;
#endregion

namespace Docs.Snippets.QuickStart;

internal static class BasicBreaker
{
    public static void Run(ICompletionClient client)
    {
        #region readme-basic-breaker
        var breaker = new CircuitBreaker(new CircuitBreakerOptions
        {
            Name = "openai",
            FailureThreshold = 5,                      // open after 5 failures in a row
            RecoveryTimeout = TimeSpan.FromSeconds(60), // try again after 60 seconds
            SuccessThreshold = 2,                      // close after 2 successful probes
        });

        try
        {
            string answer = breaker.Execute(() => client.Complete("Hello"));
        }
        catch (CircuitOpenException e)
        {
            Console.WriteLine($"Service temporarily unavailable. {e.Message}"); // "Circuit 'openai' is open. Retry after 42.0s"
        }
        #endregion
    }
}
