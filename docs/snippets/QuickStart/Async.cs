using Tripswitch;

namespace Docs.Snippets.QuickStart;

internal static class Async
{
    public static async Task Run(CircuitBreaker breaker, HttpClient http, CancellationToken cancellationToken)
    {
        #region readme-async
        string answer = await breaker.ExecuteAsync(async ct =>
        {
            var response = await http.GetStringAsync("https://api.example.test/v1/models", ct);
            return response;
        }, cancellationToken);
        #endregion
    }
}
