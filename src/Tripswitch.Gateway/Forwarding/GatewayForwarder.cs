using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Tripswitch.Gateway.Configuration;
using Tripswitch.Gateway.Logging;
using Tripswitch.Gateway.Routing;
using Tripswitch.Hosting;
using Yarp.ReverseProxy.Forwarder;

namespace Tripswitch.Gateway.Forwarding;

/// <summary>
/// Answers one OpenAI-style request: reads its model, walks the model's chain (its own route, then its fallbacks) and
/// forwards to the first route whose circuit grants a permit, reporting that attempt's outcome on the permit. Failures
/// before any byte reached the client move on to the next route when <see cref="GatewayOptions.FallbackOnFailure"/>;
/// when no route can answer the client gets 503 with <c>Retry-After</c> and a <c>circuit_open</c> error.
/// </summary>
internal sealed class GatewayForwarder(
    IHttpForwarder forwarder,
    RouteTable routes,
    CircuitBreakerRegistry registry,
    IOptions<GatewayOptions> options,
    IOptions<TripswitchOptions> tripswitch,
    ILogger<GatewayForwarder> logger)
{
    private readonly int _maxBody = options.Value.MaxRequestBodyBytes;
    private readonly bool _fallbackOnFailure = options.Value.FallbackOnFailure;
    private readonly TimeProvider _time = tripswitch.Value.Defaults.TimeProvider;

    /// <summary>Forwards the request in <paramref name="context"/> to <paramref name="endpoint"/> (<c>chat/completions</c>, …).</summary>
    public async Task ForwardAsync(HttpContext context, string endpoint)
    {
        // JSON only: a form or text/plain POST is what a web page may send cross-site without a preflight.
        if (!context.Request.HasJsonContentType())
        {
            GatewayLog.NotJson(logger);
            await OpenAIErrors.UnsupportedMediaType(context).ConfigureAwait(false);
            return;
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature)
        {
            sizeFeature.MaxRequestBodySize = null; // bounded below, by the gateway's own limit
        }

        using RequestBody? body = await RequestBody.ReadAsync(context.Request, _maxBody, context.RequestAborted).ConfigureAwait(false);
        if (body is null)
        {
            GatewayLog.BodyTooLarge(logger, _maxBody);
            await OpenAIErrors.TooLarge(context, _maxBody).ConfigureAwait(false);
            return;
        }

        if (body.Problem is { } problem)
        {
            GatewayLog.InvalidBody(logger, problem.Code);
            await OpenAIErrors.InvalidBody(context, problem).ConfigureAwait(false);
            return;
        }

        if (body.Model is not { } model || !routes.TryGetChain(model, out UpstreamRoute[] chain))
        {
            GatewayLog.UnknownModel(logger);
            await OpenAIErrors.UnknownModel(context, body.Model ?? "").ConfigureAwait(false);
            return;
        }

        using ClientAbortWatch watch = ClientAbortWatch.Install(context.Features);
        await ForwardAlongAsync(context, endpoint, body, model, chain, watch).ConfigureAwait(false);
    }

    private async Task ForwardAlongAsync(HttpContext context, string endpoint, RequestBody body, string model, UpstreamRoute[] chain, ClientAbortWatch watch)
    {
        List<(string Circuit, CircuitRejection Rejection)>? refusals = null; // only allocated when a circuit refuses
        for (int i = 0; i < chain.Length; i++)
        {
            UpstreamRoute route = chain[i];
            if (!registry.Get(route.CircuitName).TryAcquirePermit(out CircuitPermit permit, out CircuitRejection rejection))
            {
                (refusals ??= []).Add((route.CircuitName, rejection));
                GatewayLog.CircuitRefused(logger, model, route.CircuitName, rejection.State);
                continue;
            }

            if (i > 0)
            {
                GatewayLog.FallbackAnswering(logger, model, route.CircuitName);
            }

            bool holdBack = _fallbackOnFailure && AnyLaterMayAnswer(chain, i);
            var attempt = new ForwardAttempt(forwarder, route, endpoint, model, holdBack, _time, logger);
            if (await attempt.RunAsync(context, body, permit, watch).ConfigureAwait(false))
            {
                return;
            }

            // Failed before any byte reached the client: start the response afresh for the next route.
            context.Response.Clear();
            context.Response.StatusCode = StatusCodes.Status200OK;
            context.Features.Set<IForwarderErrorFeature>(null);
        }

        await NothingAvailableAsync(context, model, refusals ?? []).ConfigureAwait(false);
    }

    /// <summary>Whether a later route's circuit may let a call through (a hint: the permit decides).</summary>
    private bool AnyLaterMayAnswer(UpstreamRoute[] chain, int index)
    {
        for (int i = index + 1; i < chain.Length; i++)
        {
            if (registry.Get(chain[i].CircuitName).State is CircuitState.Closed or CircuitState.HalfOpen)
            {
                return true;
            }
        }

        return false;
    }

    private Task NothingAvailableAsync(HttpContext context, string model, List<(string Circuit, CircuitRejection Rejection)> refusals)
    {
        TimeSpan? soonest = null;
        var message = new StringBuilder().Append(CultureInfo.InvariantCulture, $"No model can answer for '{model}' now: ");
        for (int i = 0; i < refusals.Count; i++)
        {
            (string circuit, CircuitRejection rejection) = refusals[i];
            TimeSpan wait = rejection.RetryAfter;
            if (wait != TimeSpan.MaxValue && (soonest is null || wait < soonest))
            {
                soonest = wait;
            }

            message.Append(i == 0 ? "" : "; ").Append(rejection.ToString());
        }

        if (refusals.Count == 0)
        {
            message.Append("every route failed.");
        }

        GatewayLog.NothingAvailable(logger, model, soonest?.TotalSeconds ?? -1);
        context.Response.Headers[GatewayHeaders.Circuit] = string.Join(", ", refusals.Select(static r => r.Circuit));
        return OpenAIErrors.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, "circuit_open", "circuit_open", message.ToString(), soonest);
    }
}
