using System.Globalization;
using System.Net;
using System.Net.Http.Headers;

namespace Tripswitch.Http;

/// <summary>
/// A <see cref="DelegatingHandler"/> that sends each request through a circuit of a <see cref="CircuitBreakerRegistry"/>:
/// one circuit per authority by default, HTTP outcome rules (5xx, 408, 429 and transport errors are failures; the
/// caller's cancellation is ignored; the handler's own <see cref="CircuitBreakerHandlerOptions.Timeout"/> is a failure),
/// and rate-limit headers feeding the open period.
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
    private readonly TimeSpan? _timeout;

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
        _timeout = ValidTimeout(options);
    }

    /// <inheritdoc/>
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        CircuitBreaker breaker = _registry.Get(_keySelector(request));
        if (!breaker.TryAcquirePermit(out CircuitPermit permit, out CircuitRejection rejection))
        {
            return Rejected(breaker, request, rejection);
        }

        using CancellationTokenSource? timeout = StartTimeout(breaker);
        using CancellationTokenSource? linked = timeout is null ? null : CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        HttpResponseMessage response;
        try
        {
            response = await base.SendAsync(request, linked?.Token ?? cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            if (RecordException(permit, ex, timeout, cancellationToken) is { } timedOut)
            {
                throw timedOut;
            }

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
            return Rejected(breaker, request, rejection);
        }

        using CancellationTokenSource? timeout = StartTimeout(breaker);
        using CancellationTokenSource? linked = timeout is null ? null : CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        HttpResponseMessage response;
        try
        {
            response = base.Send(request, linked?.Token ?? cancellationToken);
        }
        catch (Exception ex)
        {
            if (RecordException(permit, ex, timeout, cancellationToken) is { } timedOut)
            {
                throw timedOut;
            }

            throw;
        }

        Record(breaker, permit, response);
        return response;
    }

    private CancellationTokenSource? StartTimeout(CircuitBreaker breaker)
        => _timeout is { } timeout ? new CancellationTokenSource(timeout, breaker.TimeProvider) : null;

    /// <summary>
    /// Reports a call that threw. When the handler's own timeout (not the caller) cancelled it, the call counts as a
    /// <see cref="TimeoutException"/> and the exception to throw instead is returned; otherwise <see langword="null"/>
    /// (the caller's cancellation, and a transport error raced by it, are ignored; other exceptions are classified by
    /// the circuit's options).
    /// </summary>
    private TaskCanceledException? RecordException(CircuitPermit permit, Exception ex, CancellationTokenSource? timeout, CancellationToken callerToken)
    {
        // A transport error raced by the timeout's cancellation is the timeout's doing, as HttpClient sees it too.
        if (timeout is { IsCancellationRequested: true }
            && !callerToken.IsCancellationRequested
            && ex is OperationCanceledException or HttpRequestException)
        {
            var timedOut = new TimeoutException(
                string.Create(CultureInfo.InvariantCulture, $"No response within the circuit breaker handler's Timeout of {_timeout!.Value.TotalSeconds:0.###}s."),
                ex);
            permit.RecordOutcome(timedOut, callerToken);
            return new TaskCanceledException(
                string.Create(CultureInfo.InvariantCulture, $"The request was canceled due to the circuit breaker handler's Timeout of {_timeout.Value.TotalSeconds:0.###} seconds elapsing."),
                timedOut,
                timeout.Token);
        }

        if (callerToken.IsCancellationRequested && ex is HttpRequestException or IOException)
        {
            // A transport error raced by the caller's cancellation (a connection torn down as the request was
            // cancelled) is the cancellation's doing: HttpClient reports it to the caller as a cancellation, and the
            // circuit ignores it like one.
            permit.RecordIgnored();
            return null;
        }

        permit.RecordOutcome(ex, callerToken);
        return null;
    }

    private static TimeSpan? ValidTimeout(CircuitBreakerHandlerOptions? options)
    {
        options?.Validate();
        return options?.Timeout is { } value && value != Timeout.InfiniteTimeSpan ? value : null;
    }

    private void Record(CircuitBreaker breaker, CircuitPermit permit, HttpResponseMessage response)
    {
        bool failed;
        TimeSpan? hint;
        try
        {
            failed = _isFailure(response);
            hint = !failed ? null
                : _retryAfterSelector is { } selector ? selector(response) // the user's rule replaces the default one
                : RetryAfterParser.Parse(response, breaker.TimeProvider);
        }
        catch
        {
            // A user rule threw: the permit must still be reported (a probe slot must never leak), and the response,
            // which the caller will never get, released (its connection with it).
            permit.RecordFailure();
            response.Dispose();
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

    /// <summary>
    /// Throws, or answers 503, for a rejected call. The state and the time left are the ones the circuit rejected the
    /// call with: reading the state again could find a later one (the open period ending a moment after) and describe
    /// a rejection that did not happen.
    /// </summary>
    private HttpResponseMessage Rejected(CircuitBreaker breaker, HttpRequestMessage request, CircuitRejection reason)
    {
        TimeSpan retryAfter = reason.RetryAfter;
        var rejection = new CircuitOpenException(breaker.Name, reason.State, retryAfter);
        if (!_synthesize503)
        {
            throw rejection;
        }

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

        response.Headers.TryAddWithoutValidation("X-Tripswitch-Circuit", breaker.Name);
        response.Headers.TryAddWithoutValidation("X-Tripswitch-State", rejection.State.ToString().ToLower(CultureInfo.InvariantCulture));
        return response;
    }
}
