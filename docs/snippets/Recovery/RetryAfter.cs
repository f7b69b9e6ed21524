#region readme-retry-after
using System.ClientModel; // ClientResultException: the official OpenAI client's error (package OpenAI)
#endregion
using Tripswitch;

namespace Docs.Snippets.Recovery;

internal static class RetryAfter
{
    public static void Run()
    {
        #region readme-retry-after
        new CircuitBreakerOptions
        {
            RetryAfterExtractor = e => e is ClientResultException { Status: 429 } ? TimeSpan.FromSeconds(40) : null,
        };
        #endregion
    }
}
