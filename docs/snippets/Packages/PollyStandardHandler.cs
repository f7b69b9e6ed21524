#region package-polly-standard-handler
// packages: Tripswitch.Polly, Tripswitch.Http, Tripswitch.Hosting, Microsoft.Extensions.Http.Resilience (an ASP.NET Core app)
using Microsoft.Extensions.Http.Resilience;
using Polly;
using Tripswitch;
using Tripswitch.Http;
using Tripswitch.Polly;
#endregion

namespace Docs.Snippets.Packages;

internal static class PollyStandardHandler
{
    public static void Run(string[] args)
    {
        #region package-polly-standard-handler
        var builder = WebApplication.CreateBuilder(args);
        builder.Services.AddTripswitch(builder.Configuration.GetSection("Tripswitch")); // the registry below
        builder.Services.AddHttpClient("openai").AddResilienceHandler("tripswitch", (pipeline, context) =>
        {
            pipeline.AddTimeout(TimeSpan.FromSeconds(30));                // total request timeout
            pipeline.AddRetry(new HttpRetryStrategyOptions());            // transient HTTP failures, honours Retry-After
            pipeline.AddTripswitch(new TripswitchStrategyOptions<HttpResponseMessage>
            {
                Registry = context.ServiceProvider.GetRequiredService<CircuitBreakerRegistry>(),
                KeySelector = resilience => CircuitBreakerHandlerOptions.AuthorityKey(resilience.GetRequestMessage()!),
                IsFailure = CircuitBreakerHandlerOptions.IsTransientFailure,   // 5xx, 408, 429
                RetryAfter = response => RetryAfterParser.Parse(response, TimeProvider.System),
            });
            pipeline.AddTimeout(TimeSpan.FromSeconds(10));                // per-attempt timeout
        });
        #endregion
    }
}
