using Microsoft.AspNetCore.Http;

namespace Tripswitch.Gateway.Security;

/// <summary>
/// Guards the dashboard and status endpoints (<c>/tripswitch</c>) with the admin key, given as
/// <c>Authorization: Bearer key</c>, or once as <c>?key=…</c> on the page, which then sets an HTTP-only, same-site
/// cookie so the page's own status and event requests carry it.
/// </summary>
internal sealed class AdminKeyMiddleware(RequestDelegate next, KeySet keys, PathString prefix)
{
    public const string Cookie = "tripswitch_admin";

    public Task InvokeAsync(HttpContext context)
    {
        if (!context.Request.Path.StartsWithSegments(prefix, StringComparison.Ordinal))
        {
            return next(context);
        }

        HttpRequest request = context.Request;
        if (keys.Contains(KeySet.KeyOf(request)) || (request.Cookies[Cookie] is { } cookie && keys.Contains(cookie)))
        {
            return next(context);
        }

        if (request.Query["key"] is { Count: 1 } query && keys.Contains(query[0]))
        {
            context.Response.Cookies.Append(Cookie, query[0]!, new CookieOptions { HttpOnly = true, SameSite = SameSiteMode.Strict, Path = prefix.Value, Secure = request.IsHttps });
            return next(context);
        }

        context.Response.StatusCode = StatusCodes.Status401Unauthorized;
        context.Response.Headers.WWWAuthenticate = "Bearer";
        return Task.CompletedTask;
    }
}
