using System.Collections.Frozen;
using Microsoft.Extensions.Primitives;

namespace Tripswitch.Gateway.Forwarding;

/// <summary>
/// Which headers cross the gateway, each way: allow-lists, so a header nobody thought about stays on its side.
/// Names compare case-insensitively. A header named in the request's <c>Connection</c> header is hop-by-hop and never
/// forwarded, whatever these lists say.
/// </summary>
/// <remarks>
/// Request side: what the official OpenAI and Anthropic clients send to describe the body and themselves; never
/// credentials (the provider's key is added by <see cref="Routing.Provider.Authenticate"/>), cookies, proxy or
/// forwarding headers (<c>Via</c>, <c>X-Forwarded-*</c>, <c>True-Client-IP</c>), method or URL overrides.
/// Response side: what clients read (content, rate limits, retry hints, request ids for support); never cookies, the
/// operator's account ids (<c>openai-organization</c>, <c>openai-project</c>, <c>anthropic-organization-id</c>) or
/// <c>Server</c>. The gateway's own <c>X-Tripswitch-*</c> headers are added after this copy.
/// </remarks>
internal static class HeaderPolicy
{
    /// <summary>Request headers forwarded to the provider.</summary>
    private static readonly FrozenSet<string> s_request = FrozenSet.Create(
        StringComparer.OrdinalIgnoreCase,
        "Content-Type",
        "Content-Length",       // the gateway's own: set from the body it forwards (a fallback's is rewritten)
        "Accept",
        "Accept-Encoding",      // the response passes through as encoded (Content-Encoding is returned)
        "User-Agent",
        "OpenAI-Beta",          // opts into beta APIs (assistants=v2, …)
        "X-Client-Request-Id",  // the client's own id for the request, echoed in the provider's logs
        "Idempotency-Key",
        "anthropic-version",
        "anthropic-beta");

    /// <summary>Request header prefixes forwarded: the Stainless-generated clients' description of themselves (<c>x-stainless-lang</c>, <c>-retry-count</c>, …).</summary>
    private static readonly string[] s_requestPrefixes = ["x-stainless-"];

    /// <summary>Response headers returned to the client.</summary>
    private static readonly FrozenSet<string> s_response = FrozenSet.Create(
        StringComparer.OrdinalIgnoreCase,
        "Content-Type",
        "Content-Length",
        "Content-Encoding",
        "Cache-Control",
        "Retry-After",
        "retry-after-ms",       // OpenAI's precise retry hint, which its clients prefer to Retry-After
        "x-should-retry",       // the provider telling its clients whether to retry
        "x-request-id",         // OpenAI's id of the request, for support
        "request-id",           // Anthropic's
        "openai-processing-ms",
        "openai-version");

    /// <summary>Response header prefixes returned: the providers' rate-limit state, which clients pace themselves by.</summary>
    private static readonly string[] s_responsePrefixes = ["x-ratelimit-", "anthropic-ratelimit-"];

    /// <summary>Whether a client's request header named <paramref name="name"/> goes to the provider (unless named in <c>Connection</c>).</summary>
    public static bool ForwardsRequestHeader(string name) => s_request.Contains(name) || StartsWithAny(name, s_requestPrefixes);

    /// <summary>Whether a provider's response header named <paramref name="name"/> goes to the client.</summary>
    public static bool ReturnsResponseHeader(string name) => s_response.Contains(name) || StartsWithAny(name, s_responsePrefixes);

    /// <summary>Whether <paramref name="connection"/> (the request's <c>Connection</c> values) names <paramref name="header"/>, making it hop-by-hop.</summary>
    public static bool NamedIn(StringValues connection, string header)
    {
        foreach (string? value in connection)
        {
            foreach (Range token in value.AsSpan().Split(','))
            {
                if (value.AsSpan()[token].Trim().Equals(header, StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }
            }
        }

        return false;
    }

    private static bool StartsWithAny(string name, string[] prefixes)
    {
        foreach (string prefix in prefixes)
        {
            if (name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }
}
