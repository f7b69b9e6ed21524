using System.Runtime.InteropServices;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Tripswitch.Gateway.Logging;
using Tripswitch.Gateway.Routing;
using Yarp.ReverseProxy.Forwarder;

namespace Tripswitch.Gateway.Forwarding;

/// <summary>
/// One attempt at one route, holding that route's permit: forwards with YARP and reports the outcome exactly once.
/// Failures: a 5xx, 408 or 429 status, a redirect (3xx, answered 502: see <see cref="AttemptTransformer"/>), a connection that can't be made, a timeout, and a response body the upstream
/// cuts midway. Neither: the client going away (whatever it interrupted). The permit spans the whole response, so the
/// circuit's <c>SlowCallThreshold</c> and <c>HalfOpenProbeTimeout</c> time all of it, streams included.
/// </summary>
internal sealed class ForwardAttempt(
    IHttpForwarder forwarder,
    UpstreamRoute route,
    string endpoint,
    string requestedModel,
    bool holdBackFailure,
    TimeProvider time,
    ILogger logger)
{
    /// <summary>Runs the attempt. <see langword="true"/> when the response is final; <see langword="false"/> when it failed before any byte reached the client and a fallback should answer.</summary>
    public async Task<bool> RunAsync(HttpContext context, RequestBody body, CircuitPermit permit, ClientAbortWatch watch)
    {
        long started = time.GetTimestamp();
        SetBody(context.Request, body);
        string? fallbackFrom = string.Equals(route.Model, requestedModel, StringComparison.Ordinal) ? null : requestedModel;
        var transformer = new AttemptTransformer(route, endpoint, fallbackFrom, holdBackFailure, permit, time);
        ForwarderError error;
        try
        {
            error = await forwarder.SendAsync(context, route.Provider.DestinationPrefix, route.Provider.Invoker, route.Provider.RequestConfig, transformer).ConfigureAwait(false);
        }
        catch (Exception ex) when (!transformer.Recorded)
        {
            permit.RecordException(ex, context.RequestAborted);
            throw;
        }

        bool answered = Report(context, error, transformer, permit, watch.ClientGone);
        GatewayLog.Forwarded(logger, requestedModel, route.CircuitName, (int?)transformer.Status ?? 0, error, time.GetElapsedTime(started).TotalMilliseconds);
        if (answered && !context.Response.HasStarted && !watch.ClientGone)
        {
            if (transformer.Redirected)
            {
                context.Response.Clear(); // YARP set the 3xx status; nothing of it (no Location) reaches the client
                AttemptTransformer.AddAnswerHeaders(context.Response, route, null);
                await OpenAIErrors.UpstreamRedirected(context, route.CircuitName, (int)transformer.Status!.Value).ConfigureAwait(false);
            }
            else if (error != ForwarderError.None)
            {
                await WriteUpstreamErrorAsync(context, error).ConfigureAwait(false);
            }
        }

        return answered;
    }

    private void SetBody(HttpRequest request, RequestBody body)
    {
        ReadOnlyMemory<byte> bytes = body.Model == route.Model ? body.Memory : body.WithModel(route.ModelJson);
        ArraySegment<byte> segment = MemoryMarshal.TryGetArray(bytes, out ArraySegment<byte> s) ? s : new ArraySegment<byte>(bytes.ToArray());
        request.Body = new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false);
        request.ContentLength = segment.Count;
        request.Headers.TransferEncoding = default;
    }

    /// <summary>Reports the permit's outcome; returns whether the response is final (see <see cref="RunAsync"/>).</summary>
    private bool Report(HttpContext context, ForwarderError error, AttemptTransformer transformer, CircuitPermit permit, bool clientGone)
    {
        if (transformer.Recorded)
        {
            // A failed status, reported when its headers arrived. Final unless it was held back for a fallback.
            GatewayLog.UpstreamFailed(logger, route.CircuitName, (int)transformer.Status!.Value, error);
            return !transformer.HeldBack;
        }

        if (clientGone)
        {
            // The client went away: whatever broke after that is its doing, not the upstream's.
            permit.RecordIgnored();
            return true;
        }

        switch (error)
        {
            case ForwarderError.None:
                permit.RecordSuccess();
                return true;
            // YARP's words: "destination" is the upstream, "client" the caller.
            case ForwarderError.Request or ForwarderError.RequestTimedOut or ForwarderError.RequestCreation
                or ForwarderError.ResponseHeaders or ForwarderError.RequestBodyDestination:
                // Nothing reached the client (YARP only set a status): a fallback may still answer.
                GatewayLog.UpstreamFailed(logger, route.CircuitName, (int?)transformer.Status ?? 0, error);
                permit.RecordFailure(ErrorOf(context, error));
                return !holdBackFailure || context.Response.HasStarted;
            case ForwarderError.ResponseBodyDestination or ForwarderError.ResponseBodyCanceled:
                // The upstream cut the body midway, or went silent past the timeout: part of it already reached the client.
                GatewayLog.UpstreamFailed(logger, route.CircuitName, (int?)transformer.Status ?? 0, error);
                permit.RecordFailure(ErrorOf(context, error));
                return true;
            default:
                // The client's side failed (its request body, or writing to it): not the upstream's doing.
                permit.RecordIgnored();
                return true;
        }
    }

    private Exception ErrorOf(HttpContext context, ForwarderError error)
    {
        Exception? cause = context.Features.Get<IForwarderErrorFeature>()?.Exception;
        return error is ForwarderError.RequestTimedOut or ForwarderError.ResponseBodyCanceled
            ? new TimeoutException($"The upstream of circuit '{route.CircuitName}' stayed silent longer than its timeout ({error}).", cause)
            : new HttpRequestException($"Forwarding to circuit '{route.CircuitName}' failed ({error}).", cause);
    }

    private Task WriteUpstreamErrorAsync(HttpContext context, ForwarderError error)
    {
        context.Response.Clear();
        AttemptTransformer.AddAnswerHeaders(context.Response, route, null);
        return error == ForwarderError.RequestTimedOut
            ? OpenAIErrors.WriteAsync(context, StatusCodes.Status504GatewayTimeout, "upstream_error", "upstream_timeout", $"The upstream of '{route.CircuitName}' did not answer in time.")
            : OpenAIErrors.WriteAsync(context, StatusCodes.Status502BadGateway, "upstream_error", "upstream_unavailable", $"The upstream of '{route.CircuitName}' could not be reached.");
    }
}
