using Microsoft.AspNetCore.Cors.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using Tripswitch.Gateway.Configuration;
using Tripswitch.Gateway.Forwarding;

namespace Tripswitch.Gateway.Security;

/// <summary>
/// The one place that decides which web origins may call the client API (<see cref="GatewayOptions.AllowedOrigins"/>):
/// ASP.NET Core's CORS middleware asks it for the preflight and response headers, and <see cref="OriginFilter"/> asks
/// <see cref="IsOriginAllowed"/> before anything is forwarded.
/// </summary>
/// <remarks>
/// The policy allows <c>GET</c> and <c>POST</c>, the headers an OpenAI client sends (the key headers, <c>Content-Type</c>,
/// <c>OpenAI-Beta</c>, and the <c>x-stainless-*</c> family the OpenAI JavaScript client adds, which grows with its
/// versions and so is matched by prefix), and exposes the gateway's and the provider's informative response headers.
/// No credentials (cookies): the API is called with a key header, never with the browser's cookies.
/// </remarks>
internal sealed class BrowserCorsPolicyProvider : ICorsPolicyProvider
{
    /// <summary>The CORS policy's name, required on the client API's endpoints.</summary>
    public const string PolicyName = "GatewayBrowsers";

    private const string StainlessPrefix = "x-stainless-";

    private static readonly string[] s_allowedHeaders = ["Authorization", "Content-Type", "api-key", "x-api-key", "OpenAI-Beta"];

    private static readonly string[] s_exposedHeaders =
    [
        GatewayHeaders.Model, GatewayHeaders.Circuit, GatewayHeaders.FallbackFrom,
        "x-ratelimit-limit-requests", "x-ratelimit-limit-tokens", "x-ratelimit-remaining-requests",
        "x-ratelimit-remaining-tokens", "x-ratelimit-reset-requests", "x-ratelimit-reset-tokens",
        "Retry-After", "retry-after-ms", "x-request-id", "openai-processing-ms",
    ];

    private readonly CorsPolicy _policy;

    public BrowserCorsPolicyProvider(IOptions<GatewayOptions> options)
        => _policy = new CorsPolicyBuilder()
            .WithOrigins([.. options.Value.AllowedOrigins]) // validated: exactly scheme://host[:port]
            .WithMethods(HttpMethods.Get, HttpMethods.Post)
            .WithHeaders(s_allowedHeaders)
            .WithExposedHeaders(s_exposedHeaders)
            .SetPreflightMaxAge(TimeSpan.FromMinutes(10))
            .Build();

    /// <summary>Whether a request with this <c>Origin</c> header may call the client API.</summary>
    public bool IsOriginAllowed(string origin) => _policy.IsOriginAllowed(origin);

    public Task<CorsPolicy?> GetPolicyAsync(HttpContext context, string? policyName)
    {
        if (!string.Equals(policyName, PolicyName, StringComparison.Ordinal))
        {
            return Task.FromResult<CorsPolicy?>(null);
        }

        // Only a preflight that asks for x-stainless-* headers costs a policy of its own; every other request shares one.
        List<string>? stainless = null;
        foreach (string? value in context.Request.Headers.AccessControlRequestHeaders)
        {
            foreach (StringSegment name in new StringTokenizer(value ?? "", [',']))
            {
                StringSegment trimmed = name.Trim();
                if (trimmed.StartsWith(StainlessPrefix, StringComparison.OrdinalIgnoreCase))
                {
                    (stainless ??= []).Add(trimmed.Value!);
                }
            }
        }

        return Task.FromResult<CorsPolicy?>(stainless is null ? _policy : new CorsPolicyBuilder(_policy).WithHeaders([.. stainless]).Build());
    }
}
