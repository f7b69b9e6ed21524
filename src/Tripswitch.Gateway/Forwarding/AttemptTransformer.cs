using System.Net;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using Tripswitch.Gateway.Routing;
using Tripswitch.Http;
using Yarp.ReverseProxy.Forwarder;

namespace Tripswitch.Gateway.Forwarding;

/// <summary>
/// Shapes one attempt's request and response: the request goes to the route's provider at the endpoint's path, with
/// only the headers <see cref="HeaderPolicy"/> allows plus the provider's credentials; the response returns only the
/// headers it allows, plus the gateway's own <c>X-Tripswitch-*</c>. The response status is classified with Tripswitch.Http's
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

    /// <summary>Whether the upstream answered with a redirect (3xx): a failure, answered 502 unless held back for a fallback.</summary>
    public bool Redirected { get; private set; }

    /// <summary>
    /// Builds the upstream request without YARP's copy-everything default: only the headers <see cref="HeaderPolicy"/>
    /// allows (and not named in <c>Connection</c>), then the provider's credentials.
    /// </summary>
    public override ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
    {
        IHeaderDictionary headers = httpContext.Request.Headers;
        StringValues connection = headers.Connection;
        foreach ((string name, StringValues value) in headers)
        {
            if (HeaderPolicy.ForwardsRequestHeader(name) && !HeaderPolicy.NamedIn(connection, name))
            {
                // Content headers (Content-Type, Content-Length) belong on the content; request headers refuse them.
                string?[] values = value.ToArray();
                if (!proxyRequest.Headers.TryAddWithoutValidation(name, values))
                {
                    proxyRequest.Content?.Headers.TryAddWithoutValidation(name, values);
                }
            }
        }

        // The address is the provider's and the endpoint's; only the query string comes from the client (it cannot
        // change the host). The Host header is not copied, so the provider's host is used.
        proxyRequest.RequestUri = route.Provider.AddressOf(endpoint, httpContext.Request.QueryString);
        proxyRequest.Headers.Host = null;
        route.Provider.Authenticate(proxyRequest);
        return default;
    }

    public override ValueTask<bool> TransformResponseAsync(HttpContext httpContext, HttpResponseMessage? proxyResponse, CancellationToken cancellationToken)
    {
        if (proxyResponse is null)
        {
            return new ValueTask<bool>(false);
        }

        Status = proxyResponse.StatusCode;
        int status = (int)proxyResponse.StatusCode;
        // A redirect is never followed (the provider's handler doesn't) nor passed on (its Location could point
        // anywhere): it means the provider's BaseUrl is wrong, a failure of this upstream like a 5xx.
        Redirected = status is >= 300 and < 400;
        FailedStatus = Redirected || CircuitBreakerHandlerOptions.IsTransientFailure(proxyResponse);
        if (FailedStatus)
        {
            RetryAfter = Redirected ? null : RetryAfterParser.Parse(proxyResponse, time);
            Recorded = true;
            permit.RecordFailure(new UpstreamStatusException(route, proxyResponse.StatusCode), RetryAfter);
            if (holdBackFailure || Redirected)
            {
                // YARP discards the body; the response has not started. A redirect gets its 502 from ForwardAttempt.
                HeldBack = holdBackFailure;
                return new ValueTask<bool>(false);
            }
        }

        HttpResponse response = httpContext.Response;
        CopyAllowed(proxyResponse.Headers, response.Headers);
        if (proxyResponse.Content is not null)
        {
            CopyAllowed(proxyResponse.Content.Headers, response.Headers);
        }

        if (status is < 200 or 204 or 205 or 304)
        {
            response.Headers.ContentLength = null; // Kestrel refuses a length on a status that has no body
        }

        AddAnswerHeaders(response, route, fallbackFrom);
        return new ValueTask<bool>(true);
    }

    /// <summary>No trailers are returned: the LLM APIs send none, and an unknown one would bypass the allow-list.</summary>
    public override ValueTask TransformResponseTrailersAsync(HttpContext httpContext, HttpResponseMessage proxyResponse, CancellationToken cancellationToken) => default;

    private static void CopyAllowed(HttpHeaders source, IHeaderDictionary destination)
    {
        // NonValidated: the values as the upstream sent them, without HttpHeaders re-parsing (and re-formatting) them.
        foreach ((string name, HeaderStringValues values) in source.NonValidated)
        {
            if (HeaderPolicy.ReturnsResponseHeader(name))
            {
                destination[name] = StringValues.Concat(destination[name], values.Count == 1 ? new StringValues(values.ToString()) : new StringValues([.. values]));
            }
        }
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
