using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Tripswitch.Gateway.Configuration;
using Tripswitch.Gateway.Forwarding;
using Tripswitch.Gateway.Logging;
using Tripswitch.Hosting;

namespace Tripswitch.Gateway.Security;

/// <summary>
/// Who may call what. Access is a property of each endpoint (its authorization policy), never a comparison of paths:
/// the <c>/v1</c> group requires <see cref="ClientPolicy"/>, the dashboard group <see cref="AdminPolicy"/>, health is
/// marked anonymous, and the fallback policy (the admin policy) closes anything mapped later and not marked otherwise.
/// </summary>
/// <remarks>
/// Three authentication schemes: <see cref="ClientKeyScheme"/> and <see cref="AdminKeyScheme"/> read a key from the
/// request (<see cref="KeySet.KeyOf"/>); <see cref="AdminSessionScheme"/> is a cookie holding a signed and encrypted,
/// expiring ticket (ASP.NET Core Data Protection) that <see cref="AdminSignInMiddleware"/> issues for a valid admin key
/// given once as <c>?key=</c>. The principal's name is a key id (<c>client-key-0</c>, <c>admin-key-0</c>), never a key.
/// </remarks>
internal static class GatewayAuth
{
    public const string ClientKeyScheme = "GatewayKey";
    public const string AdminKeyScheme = "AdminKey";
    public const string AdminSessionScheme = "AdminSession";
    public const string ClientPolicy = "GatewayClient";
    public const string AdminPolicy = "GatewayAdmin";
    public const string ClientRole = "client";
    public const string AdminRole = "admin";

    /// <summary>The admin session cookie's name.</summary>
    public const string SessionCookie = "tripswitch_admin";

    /// <summary>Adds the schemes, the policies and the fallback policy; the keys are read from the validated <see cref="GatewayOptions"/>.</summary>
    public static void AddGatewayAuth(IServiceCollection services, string dashboardPath)
    {
        services.AddDataProtection().SetApplicationName("Tripswitch.Gateway");
        services.AddAuthentication()
            .AddScheme<KeyAuthenticationOptions, KeyAuthenticationHandler>(ClientKeyScheme, null)
            .AddScheme<KeyAuthenticationOptions, KeyAuthenticationHandler>(AdminKeyScheme, null)
            .AddCookie(AdminSessionScheme, static _ => { }); // configured below from the validated options
        services.AddOptions<KeyAuthenticationOptions>(ClientKeyScheme).Configure<IOptions<GatewayOptions>>(static (o, gateway) =>
        {
            o.Keys = new KeySet(gateway.Value.ClientKeys);
            o.Role = ClientRole;
            o.KeyIdPrefix = "client-key-";
            o.Challenge = static context =>
            {
                GatewayLog.Unauthorized(context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(GatewayLog.Category));
                return OpenAIErrors.Unauthorized(context);
            };
        });
        services.AddOptions<KeyAuthenticationOptions>(AdminKeyScheme).Configure<IOptions<GatewayOptions>>((o, gateway) =>
        {
            o.Keys = AdminKeys(gateway.Value);
            o.Role = AdminRole;
            o.KeyIdPrefix = "admin-key-";
            o.Challenge = context => AdminChallengeAsync(context, dashboardPath);
        });
        services.AddOptions<CookieAuthenticationOptions>(AdminSessionScheme).Configure<IOptions<GatewayOptions>, IOptions<TripswitchOptions>>((o, gateway, tripswitch) =>
        {
            o.TimeProvider = tripswitch.Value.Defaults.TimeProvider; // the gateway's one clock
            o.Cookie.Name = SessionCookie;
            o.Cookie.HttpOnly = true;
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest; // https, also as told by a trusted proxy
            o.Cookie.Path = dashboardPath;
            o.Cookie.IsEssential = true;
            o.ExpireTimeSpan = gateway.Value.AdminSessionLifetime;
            o.SlidingExpiration = false;
            // An API and a page, no login form: a missing or expired session is a 401, never a redirect.
            o.Events.OnRedirectToLogin = static context => SetStatus(context.Response, StatusCodes.Status401Unauthorized);
            o.Events.OnRedirectToAccessDenied = static context => SetStatus(context.Response, StatusCodes.Status403Forbidden);
        });

        services.AddAuthorization(static o =>
        {
            o.AddPolicy(ClientPolicy, static p => p.AddAuthenticationSchemes(ClientKeyScheme).RequireRole(ClientRole));
            // The session first: its challenge only sets the status, the key scheme's then writes the answer.
            AuthorizationPolicy admin = new AuthorizationPolicyBuilder(AdminSessionScheme, AdminKeyScheme).RequireRole(AdminRole).Build();
            o.AddPolicy(AdminPolicy, admin);
            o.FallbackPolicy = admin; // an endpoint nobody marked is for the admin only
        });
    }

    /// <summary>The principal of a caller who gave the key <paramref name="keyId"/> (its name is the key id, never the key).</summary>
    public static ClaimsPrincipal PrincipalOf(string keyId, string role, string authenticationType)
        => new(new ClaimsIdentity(
            [new Claim(ClaimTypes.NameIdentifier, keyId), new Claim(ClaimTypes.Name, keyId), new Claim(ClaimTypes.Role, role)],
            authenticationType));

    /// <summary>The admin keys (empty when no <see cref="GatewayOptions.AdminKey"/> is set: then no admin exists).</summary>
    public static KeySet AdminKeys(GatewayOptions options) => new(options.AdminKey is { } key ? [key] : []);

    private static Task SetStatus(HttpResponse response, int status)
    {
        if (!response.HasStarted)
        {
            response.StatusCode = status;
        }

        return Task.CompletedTask;
    }

    private static Task AdminChallengeAsync(HttpContext context, string dashboardPath)
    {
        HttpResponse response = context.Response;
        if (response.HasStarted)
        {
            return Task.CompletedTask;
        }

        response.StatusCode = StatusCodes.Status401Unauthorized;
        response.Headers.WWWAuthenticate = "Bearer";
        response.ContentType = "text/plain; charset=utf-8";
        return response.WriteAsync(
            $"This needs the gateway's admin key: send 'Authorization: Bearer <admin key>', or open {dashboardPath}?key=<admin key> once in a browser to start a session.",
            context.RequestAborted);
    }
}
