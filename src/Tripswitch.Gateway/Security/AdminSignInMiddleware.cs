using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Tripswitch.Gateway.Logging;

namespace Tripswitch.Gateway.Security;

/// <summary>
/// Turns an admin key given once as <c>?key=…</c> (already lifted out of the URL by <see cref="KeyLiftingServer"/>) into
/// an admin session: a valid key gets the session cookie and a <c>303</c> to the same address without the key, so it
/// stays neither in the address bar nor in the history; any other key gets a 401. Only for GET and HEAD (a browser's
/// navigation); on other methods the lifted parameter is simply dropped, never forwarded.
/// </summary>
internal sealed class AdminSignInMiddleware(RequestDelegate next, KeySet adminKeys, TimeSpan lifetime, TimeProvider time, ILogger logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        HttpRequest request = context.Request;
        if (QueryKey.Of(context.Features) is not { } lifted || !(HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method)))
        {
            await next(context).ConfigureAwait(false);
            return;
        }

        if (lifted.Value is not { } key || !adminKeys.TryMatch(key, out int index))
        {
            GatewayLog.AdminSignInRefused(logger);
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            context.Response.Headers.WWWAuthenticate = "Bearer";
            return;
        }

        string id = "admin-key-" + index.ToString(System.Globalization.CultureInfo.InvariantCulture);

        // Persistent with an end: the browser drops the cookie when the ticket inside it expires.
        var properties = new AuthenticationProperties { IsPersistent = true, ExpiresUtc = time.GetUtcNow() + lifetime };
        await context.SignInAsync(GatewayAuth.AdminSessionScheme, GatewayAuth.PrincipalOf(id, GatewayAuth.AdminRole, GatewayAuth.AdminSessionScheme), properties).ConfigureAwait(false);
        GatewayLog.AdminSignedIn(logger, id);
        context.Response.StatusCode = StatusCodes.Status303SeeOther;
        context.Response.Headers.Location = request.PathBase.Add(request.Path).ToUriComponent() + request.QueryString.ToUriComponent();
    }
}
