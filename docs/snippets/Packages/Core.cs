#region package-core
// packages: Tripswitch
using Tripswitch;
#endregion

namespace Docs.Snippets.Packages;

internal static class Core
{
    public static async Task Run()
    {
        #region package-core
        using var inventory = new HttpClient { BaseAddress = new Uri("https://inventory.example.test/") };
        var breaker = new CircuitBreaker(new CircuitBreakerOptions
        {
            Name = "inventory",
            FailureThreshold = 5,                       // open after 5 failures in a row
            RecoveryTimeout = TimeSpan.FromSeconds(30), // then try again after 30 seconds
        });

        try
        {
            string stock = await breaker.ExecuteAsync(async ct => await inventory.GetStringAsync("stock/sku-42", ct));
        }
        catch (CircuitOpenException e)
        {
            Console.WriteLine(e.Message); // Circuit 'inventory' is open. Retry after 29.9s
        }
        #endregion
    }
}
