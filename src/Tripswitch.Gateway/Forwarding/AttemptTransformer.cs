using System.Net;
using Microsoft.AspNetCore.Http;
using Tripswitch.Gateway.Routing;
using Tripswitch.Http;
using Yarp.ReverseProxy.Forwarder;

namespace Tripswitch.Gateway.Forwarding;

/// <summary>
/// Shapes one attempt's request and response: the request goes to the route's provider at the endpoint's path, with the
/// client's credentials removed and the provider's added; the response status is classified with Tripswitch.Http's
/// rules (5xx, 408, 429 fail; <c>Retry-After</c> and the rate-limit headers read by <see cref="RetryAfterParser"/>).
/// A failed response is held back (its body discarded before any byte reached the client) when a fallback may answer.
/// </summary>
/// <remarks>
/// A failed status is recorded on the permit as soon as the headers arrive, before any byte of the body is copied: the
/// circuit knows by the time the client does (a client that reacts at once meets the new state), and concurrent calls
/// see the failure without waiting for a long error body.
/// </remarks>
internal sealed class AttemptTransformer(UpstreamRoute route, string endpoint, string? fallbackFrom, bool holdBackFailure, CircuitPermit permit, TimeProvider time) : HttpTransformer
{
    /// <summary>Request headers that carry the client's identity or credentials: never forwarded.</summary>
    private static readonly string[] s_clientOnlyHeaders =
    [
        "Authorization", "api-key", "x-api-key", "Cookie", "Proxy-Authorization", "OpenAI-Organization", "OpenAI-Project",
        "Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Forwarded-Prefix", "X-Real-IP",
    ];

    /// <summary>The upstream's status, once its response headers arrived.</summary>
    public HttpStatusCode? Status { get; private set; }

    /// <summary>Whether the response's status counts against the circuit.</summary>
    public bool FailedStatus { get; private set; }

    /// <summary>How long the upstream asked callers to wait, for a failed status that said.</summary>
    public TimeSpan? RetryAfter { get; private set; }

    /// <summary>Whether the permit's outcome was already reported (for a failed status).</summary>
    public bool Recorded { get; private set; }

    /// <summary>Whether a failed response was held back for a fallback (nothing of it reached the client).</summary>
    public bool HeldBack { get; private set; }

    public override async ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
    {
        await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken).ConfigureAwait(false);
        foreach (string header in s_clientOnlyHeaders)
        {
            proxyRequest.Headers.Remove(header);
        }

        // The address is the provider's and the endpoint's; only the query string comes from the client (it cannot
        // change the host). The Host header is not copied (YARP's default), so the provider's host is used.
        proxyRequest.RequestUri = route.Provider.AddressOf(endpoint, httpContext.Request.QueryString);
        proxyRequest.Headers.Host = null;
        route.Provider.Authenticate(proxyRequest);
    }

    public override async ValueTask<bool> TransformResponseAsync(HttpContext httpContext, HttpResponseMessage? proxyResponse, CancellationToken cancellationToken)
    {
        if (proxyResponse is null)
        {
            return await base.TransformResponseAsync(httpContext, proxyResponse, cancellationToken).ConfigureAwait(false);
        }

        Status = proxyResponse.StatusCode;
        FailedStatus = CircuitBreakerHandlerOptions.IsTransientFailure(proxyResponse);
        if (FailedStatus)
        {
            RetryAfter = RetryAfterParser.Parse(proxyResponse, time);
            Recorded = true;
            permit.RecordFailure(new UpstreamStatusException(route, proxyResponse.StatusCode), RetryAfter);
            if (holdBackFailure)
            {
                HeldBack = true;
                return false; // YARP discards the body; the response has not started
            }
        }

        bool copyBody = await base.TransformResponseAsync(httpContext, proxyResponse, cancellationToken).ConfigureAwait(false);
        AddAnswerHeaders(httpContext.Response, route, fallbackFrom);
        return copyBody;
    }

    /// <summary>Names the model and circuit that answered (and, for a fallback, the model that was asked for).</summary>
    public static void AddAnswerHeaders(HttpResponse response, UpstreamRoute route, string? fallbackFrom)
    {
        response.Headers[GatewayHeaders.Model] = route.Model;
        response.Headers[GatewayHeaders.Circuit] = route.CircuitName;
        if (fallbackFrom is not null)
        {
            response.Headers[GatewayHeaders.FallbackFrom] = fallbackFrom;
        }
    }
}
