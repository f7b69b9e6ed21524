using Tripswitch;

namespace Docs.Snippets.QuickStart;

internal static class Permit
{
    public static async Task Run(CircuitBreaker breaker, Func<Task<string>> Send, CancellationToken ct)
    {
        #region readme-permit
        if (breaker.TryAcquirePermit(out CircuitPermit permit, out TimeSpan retryAfter))
        {
            try { var r = await Send(); permit.RecordSuccess(); }
            catch (Exception e) { permit.RecordException(e, ct); throw; }
        }
        else
        {
            // rejected without an exception: retryAfter says when to come back
        }
        #endregion
    }
}
