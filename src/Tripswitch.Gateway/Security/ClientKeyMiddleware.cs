using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Tripswitch.Gateway.Forwarding;
using Tripswitch.Gateway.Logging;

namespace Tripswitch.Gateway.Security;

/// <summary>
/// Lets a request under <c>/v1</c> through only with a configured gateway key (unless anonymous access was configured
/// explicitly). Runs before the body is read, so an unauthenticated request costs nothing and reaches no upstream.
/// </summary>
internal sealed class ClientKeyMiddleware(RequestDelegate next, KeySet keys, bool allowAnonymous, ILogger logger)
{
    public Task InvokeAsync(HttpContext context)
    {
        if (allowAnonymous || !context.Request.Path.StartsWithSegments("/v1", StringComparison.Ordinal) || keys.Contains(KeySet.KeyOf(context.Request)))
        {
            return next(context);
        }

        GatewayLog.Unauthorized(logger);
        return OpenAIErrors.Unauthorized(context);
    }
}
