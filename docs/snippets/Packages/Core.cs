#region package-core
using Tripswitch;
#endregion

namespace Docs.Snippets.Packages;

internal static class Core
{
    public static void Run(IInventoryClient inventory)
    {
        #region package-core
        var breaker = new CircuitBreaker(new CircuitBreakerOptions
        {
            Name = "inventory",
            FailureThreshold = 5,                       // open after 5 failures in a row
            RecoveryTimeout = TimeSpan.FromSeconds(30), // then try again after 30 seconds
        });

        try
        {
            int stock = breaker.Execute(() => inventory.GetStock("sku-42"));
        }
        catch (CircuitOpenException e)
        {
            Console.WriteLine(e.Message); // Circuit 'inventory' is open. Retry after 29.9s
        }
        #endregion
    }
}
