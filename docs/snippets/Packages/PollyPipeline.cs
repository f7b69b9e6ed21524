#region package-polly
// packages: Tripswitch.Polly
using Polly;
using Tripswitch;
#endregion

namespace Docs.Snippets.Packages;

internal static class PollyPipeline
{
    public static async Task Run()
    {
        #region package-polly
        using var billing = new HttpClient { BaseAddress = new Uri("https://billing.example.test/") };
        var breaker = new CircuitBreaker(new CircuitBreakerOptions { Name = "billing", FailureThreshold = 5 });
        ResiliencePipeline pipeline = new ResiliencePipelineBuilder()
            .AddTripswitch(breaker)
            .Build();

        using HttpResponseMessage response = await pipeline.ExecuteAsync(async ct => await billing.PostAsync("charges", content: null, ct));
        #endregion
    }
}
