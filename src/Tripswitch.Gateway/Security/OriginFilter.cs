using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Tripswitch.Gateway.Forwarding;
using Tripswitch.Gateway.Logging;

namespace Tripswitch.Gateway.Security;

/// <summary>
/// Refuses, with 403 and nothing forwarded, a client API request whose <c>Origin</c> header names a web origin that
/// <see cref="BrowserCorsPolicyProvider"/> does not allow. Browsers send <c>Origin</c> on every cross-site <c>POST</c>
/// (and CORS request), so a page elsewhere cannot drive the gateway even where CORS would not stop the request being
/// sent; clients that send no <c>Origin</c> (servers, scripts, SDKs outside a browser) pass.
/// </summary>
internal sealed class OriginFilter(BrowserCorsPolicyProvider origins, ILogger logger) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        HttpContext http = context.HttpContext;
        string? origin = http.Request.Headers.Origin;
        if (origin is null || origins.IsOriginAllowed(origin))
        {
            return await next(context).ConfigureAwait(false);
        }

        GatewayLog.OriginRefused(logger);
        await OpenAIErrors.OriginNotAllowed(http, origin).ConfigureAwait(false);
        return Results.Empty;
    }
}
