#region package-polly
using Polly;
using Tripswitch;
#endregion

namespace Docs.Snippets.Packages;

internal static class PollyPipeline
{
    public static async Task Run(IBillingClient billing, CancellationToken cancellationToken)
    {
        #region package-polly
        var breaker = new CircuitBreaker(new CircuitBreakerOptions { Name = "billing", FailureThreshold = 5 });
        ResiliencePipeline pipeline = new ResiliencePipelineBuilder()
            .AddTripswitch(breaker)
            .Build();

        await pipeline.ExecuteAsync(async ct => await billing.ChargeAsync(ct), cancellationToken);
        #endregion
    }
}
