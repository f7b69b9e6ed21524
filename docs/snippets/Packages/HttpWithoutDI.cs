#region package-http-without-di
// packages: Tripswitch.Http
using Tripswitch;
using Tripswitch.Http;
#endregion

namespace Docs.Snippets.Packages;

internal static class HttpWithoutDI
{
    public static async Task Run()
    {
        #region package-http-without-di
        var registry = new CircuitBreakerRegistry();
        using var inventory = new HttpClient(new CircuitBreakerHandler(registry) { InnerHandler = new SocketsHttpHandler() });
        string stock = await inventory.GetStringAsync("https://inventory.example.test/stock/sku-42");
        #endregion
    }
}
