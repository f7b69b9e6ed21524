using System.Globalization;
using System.Net;
using System.Net.Http.Headers;

namespace Tripswitch.Http;

/// <summary>
/// A <see cref="DelegatingHandler"/> that sends each request through a circuit of a <see cref="CircuitBreakerRegistry"/>:
/// one circuit per authority by default, HTTP outcome rules (5xx, 408, 429 and transport errors are failures; the
/// caller's cancellation is ignored), and rate-limit headers feeding the open period.
/// </summary>
/// <remarks>
/// The handler only sees the response headers: a response body that fails later while it is being read (a stream cut
/// midway) is not observed here. The chat-client middleware in Tripswitch.AI observes whole streams.
/// </remarks>
public sealed class CircuitBreakerHandler : DelegatingHandler
{
    private readonly CircuitBreakerRegistry _registry;
    private readonly Func<HttpRequestMessage, string> _keySelector;
    private readonly Func<HttpResponseMessage, bool> _isFailure;
    private readonly Func<HttpResponseMessage, TimeSpan?>? _retryAfterSelector;
    private readonly bool _synthesize503;

    /// <summary>Creates a handler over the circuits of <paramref name="registry"/>.</summary>
    /// <param name="registry">Where the circuits live; its defaults and per-key overrides configure them.</param>
    /// <param name="options">The handler's options; <see langword="null"/> for the defaults.</param>
    public CircuitBreakerHandler(CircuitBreakerRegistry registry, CircuitBreakerHandlerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(registry);
        _registry = registry;
        _keySelector = options?.KeySelector ?? CircuitBreakerHandlerOptions.AuthorityKey;
        _isFailure = options?.IsFailure ?? CircuitBreakerHandlerOptions.IsTransientFailure;
        _retryAfterSelector = options?.RetryAfterSelector;
        _synthesize503 = options?.ReturnServiceUnavailableWhenOpen ?? false;
    }

    /// <inheritdoc/>
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        CircuitBreaker breaker = _registry.Get(_keySelector(request));
        if (!breaker.TryAcquirePermit(out CircuitPermit permit, out CircuitRejection rejection))
        {
            return Rejected(request, rejection);
        }

        HttpResponseMessage response;
        try
        {
            response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            permit.RecordException(ex, cancellationToken);
            throw;
        }

        Record(breaker, permit, response);
        return response;
    }

    /// <inheritdoc/>
    protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        CircuitBreaker breaker = _registry.Get(_keySelector(request));
        if (!breaker.TryAcquirePermit(out CircuitPermit permit, out CircuitRejection rejection))
        {
            return Rejected(request, rejection);
        }

        HttpResponseMessage response;
        try
        {
            response = base.Send(request, cancellationToken);
        }
        catch (Exception ex)
        {
            permit.RecordException(ex, cancellationToken);
            throw;
        }

        Record(breaker, permit, response);
        return response;
    }

    private void Record(CircuitBreaker breaker, CircuitPermit permit, HttpResponseMessage response)
    {
        bool failed;
        TimeSpan? hint;
        try
        {
            failed = _isFailure(response);
            hint = failed ? (_retryAfterSelector ?? DefaultRetryAfter(breaker))(response) : null;
        }
        catch
        {
            // A user rule threw: the permit must still be reported (a probe slot must never leak).
            permit.RecordFailure();
            throw;
        }

        if (failed)
        {
            permit.RecordFailure(
                new HttpRequestException($"Response status code does not indicate success: {(int)response.StatusCode} ({response.ReasonPhrase}).", inner: null, response.StatusCode),
                hint);
        }
        else
        {
            permit.RecordSuccess();
        }
    }

    private static Func<HttpResponseMessage, TimeSpan?> DefaultRetryAfter(CircuitBreaker breaker)
    {
        TimeProvider time = breaker.Machine.Options.TimeProvider;
        return response => RetryAfterParser.Parse(response, time);
    }

    private HttpResponseMessage Rejected(HttpRequestMessage request, CircuitRejection reason)
    {
        CircuitOpenException rejection = reason.ToException();
        if (!_synthesize503)
        {
            throw rejection;
        }

        TimeSpan retryAfter = rejection.RetryAfter;
        var response = new HttpResponseMessage(HttpStatusCode.ServiceUnavailable)
        {
            RequestMessage = request,
            ReasonPhrase = "Circuit Open",
            Content = new StringContent(rejection.Message),
        };

        if (retryAfter != TimeSpan.MaxValue)
        {
            // Whole seconds, rounded up, so a client that honours it never comes back early.
            response.Headers.RetryAfter = new RetryConditionHeaderValue(TimeSpan.FromSeconds(Math.Ceiling(retryAfter.TotalSeconds)));
        }

        response.Headers.TryAddWithoutValidation("X-Tripswitch-Circuit", rejection.CircuitName);
        response.Headers.TryAddWithoutValidation("X-Tripswitch-State", rejection.State.ToString().ToLower(CultureInfo.InvariantCulture));
        return response;
    }
}
