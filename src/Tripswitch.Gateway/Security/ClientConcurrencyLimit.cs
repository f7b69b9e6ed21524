using System.Security.Claims;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Tripswitch.Gateway.Configuration;
using Tripswitch.Gateway.Forwarding;
using Tripswitch.Gateway.Logging;

namespace Tripswitch.Gateway.Security;

/// <summary>
/// The optional limit on requests in progress per client key (<see cref="GatewayOptions.MaxConcurrentRequestsPerClient"/>):
/// ASP.NET Core's rate-limiting middleware with a <see cref="ConcurrencyLimiter"/> per key id, without a queue. A request
/// over the limit gets 429, <c>Retry-After: 1</c> and an OpenAI-shaped <c>rate_limit_exceeded</c> error.
/// </summary>
/// <remarks>
/// The partition is the authenticated principal's key id (<see cref="ClaimTypes.NameIdentifier"/>, <c>client-key-0</c>),
/// never the key, so there are at most as many partitions as configured keys; anonymous callers share
/// <see cref="AnonymousPartition"/>. The middleware runs after authorization and holds its lease until the endpoint
/// returns, which for a stream is when the stream ends: a held stream counts.
/// </remarks>
internal static class ClientConcurrencyLimit
{
    /// <summary>The rate-limiting policy's name, required on the client API's group when a limit is configured.</summary>
    public const string PolicyName = "GatewayClientConcurrency";

    /// <summary>The partition every caller without a key id shares (anonymous mode).</summary>
    public const string AnonymousPartition = "anonymous";

    /// <summary>Adds the rate limiter; its policy exists only when the validated options set a limit.</summary>
    public static void Add(IServiceCollection services)
    {
        services.AddRateLimiter(static _ => { });
        services.AddOptions<RateLimiterOptions>().Configure<IOptions<GatewayOptions>>(static (o, gateway) =>
        {
            if (gateway.Value.MaxConcurrentRequestsPerClient is not { } limit)
            {
                return;
            }

            var perKey = new ConcurrencyLimiterOptions { PermitLimit = limit, QueueLimit = 0 };
            o.AddPolicy(PolicyName, context => RateLimitPartition.GetConcurrencyLimiter(PartitionOf(context), _ => perKey));
            o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            o.OnRejected = (rejected, _) =>
            {
                HttpContext context = rejected.HttpContext;
                GatewayLog.TooManyConcurrentRequests(context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(GatewayLog.Category), PartitionOf(context), limit);
                return new ValueTask(OpenAIErrors.TooManyConcurrentRequests(context, limit));
            };
        });
    }

    private static string PartitionOf(HttpContext context) => context.User.FindFirstValue(ClaimTypes.NameIdentifier) ?? AnonymousPartition;
}
