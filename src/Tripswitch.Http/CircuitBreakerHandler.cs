using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.Options;

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
    private readonly IDisposable? _reloads;
    private Settings _settings; // replaced whole on a reload; each request reads it once, so it never mixes two versions

    /// <summary>Creates a handler over the circuits of <paramref name="registry"/>.</summary>
    /// <param name="registry">Where the circuits live; its defaults and per-key overrides configure them.</param>
    /// <param name="options">The handler's options; <see langword="null"/> for the defaults. Copied: later changes to the object don't reach the handler.</param>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range; the message names it and the valid range.</exception>
    public CircuitBreakerHandler(CircuitBreakerRegistry registry, CircuitBreakerHandlerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(registry);
        _registry = registry;
        _settings = new Settings(options);
    }

    /// <summary>
    /// Creates a handler whose options are the named options <paramref name="name"/> of <paramref name="options"/>, and
    /// follow them: when they change (a configuration reload that validates), the next request uses the new ones.
    /// </summary>
    internal CircuitBreakerHandler(CircuitBreakerRegistry registry, IOptionsMonitor<CircuitBreakerHandlerOptions> options, string name)
        : this(registry, options.Get(name))
    {
        // The monitor calls back only with options that passed validation (an invalid reload throws in the monitor and
        // never reaches here), so the handler keeps working with the last valid options.
        _reloads = options.OnChange((changed, changedName) =>
        {
            if (string.Equals(changedName, name, StringComparison.Ordinal))
            {
                Volatile.Write(ref _settings, new Settings(changed));
            }
        });
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _reloads?.Dispose();
        }

        base.Dispose(disposing);
    }

    /// <inheritdoc/>
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Settings settings = Volatile.Read(ref _settings);
        CircuitBreaker breaker = _registry.Get(settings.KeySelector(request));
        if (!breaker.TryAcquirePermit(out CircuitPermit permit, out CircuitRejection rejection))
        {
            return Rejected(settings, breaker, request, rejection);
        }

        using CancellationTokenSource? timeout = StartTimeout(settings, breaker);
        using CancellationTokenSource? linked = timeout is null ? null : CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        HttpResponseMessage response;
        try
        {
            response = await base.SendAsync(request, linked?.Token ?? cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            if (RecordException(settings, permit, ex, timeout, cancellationToken) is { } timedOut)
            {
                throw timedOut;
            }

            throw;
        }

        Record(settings, breaker, permit, response);
        return response;
    }

    /// <inheritdoc/>
    protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Settings settings = Volatile.Read(ref _settings);
        CircuitBreaker breaker = _registry.Get(settings.KeySelector(request));
        if (!breaker.TryAcquirePermit(out CircuitPermit permit, out CircuitRejection rejection))
        {
            return Rejected(settings, breaker, request, rejection);
        }

        using CancellationTokenSource? timeout = StartTimeout(settings, breaker);
        using CancellationTokenSource? linked = timeout is null ? null : CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        HttpResponseMessage response;
        try
        {
            response = base.Send(request, linked?.Token ?? cancellationToken);
        }
        catch (Exception ex)
        {
            if (RecordException(settings, permit, ex, timeout, cancellationToken) is { } timedOut)
            {
                throw timedOut;
            }

            throw;
        }

        Record(settings, breaker, permit, response);
        return response;
    }

    private static CancellationTokenSource? StartTimeout(Settings settings, CircuitBreaker breaker)
        => settings.Timeout is { } timeout ? new CancellationTokenSource(timeout, breaker.TimeProvider) : null;

    /// <summary>
    /// Reports a call that threw. When the handler's own timeout (not the caller) cancelled it, the call counts as a
    /// <see cref="TimeoutException"/> and the exception to throw instead is returned; otherwise <see langword="null"/>
    /// (the caller's cancellation, and a transport error raced by it, are ignored; other exceptions are classified by
    /// the circuit's options).
    /// </summary>
    private static TaskCanceledException? RecordException(Settings settings, CircuitPermit permit, Exception ex, CancellationTokenSource? timeout, CancellationToken callerToken)
    {
        // A transport error raced by the timeout's cancellation is the timeout's doing, as HttpClient sees it too.
        if (timeout is { IsCancellationRequested: true }
            && !callerToken.IsCancellationRequested
            && ex is OperationCanceledException or HttpRequestException)
        {
            var timedOut = new TimeoutException(
                string.Create(CultureInfo.InvariantCulture, $"No response within the circuit breaker handler's Timeout of {settings.Timeout!.Value.TotalSeconds:0.###}s."),
                ex);
            permit.RecordOutcome(timedOut, callerToken);
            return new TaskCanceledException(
                string.Create(CultureInfo.InvariantCulture, $"The request was canceled due to the circuit breaker handler's Timeout of {settings.Timeout.Value.TotalSeconds:0.###} seconds elapsing."),
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

    private static void Record(Settings settings, CircuitBreaker breaker, CircuitPermit permit, HttpResponseMessage response)
    {
        bool failed;
        TimeSpan? hint;
        try
        {
            failed = settings.IsFailure(response);
            hint = !failed ? null
                : settings.RetryAfterSelector is { } selector ? selector(response) // the user's rule replaces the default one
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
    private static HttpResponseMessage Rejected(Settings settings, CircuitBreaker breaker, HttpRequestMessage request, CircuitRejection reason)
    {
        TimeSpan retryAfter = reason.RetryAfter;
        var rejection = new CircuitOpenException(breaker.Name, reason.State, retryAfter);
        if (!settings.Synthesize503)
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

    /// <summary>The handler's options as it uses them: validated, defaults filled in, immutable.</summary>
    private sealed class Settings
    {
        public Settings(CircuitBreakerHandlerOptions? options)
        {
            options?.Validate();
            KeySelector = options?.KeySelector ?? CircuitBreakerHandlerOptions.AuthorityKey;
            IsFailure = options?.IsFailure ?? CircuitBreakerHandlerOptions.IsTransientFailure;
            RetryAfterSelector = options?.RetryAfterSelector;
            Synthesize503 = options?.ReturnServiceUnavailableWhenOpen ?? false;
            Timeout = options?.Timeout is { } value && value != System.Threading.Timeout.InfiniteTimeSpan ? value : null;
        }

        public Func<HttpRequestMessage, string> KeySelector { get; }

        public Func<HttpResponseMessage, bool> IsFailure { get; }

        public Func<HttpResponseMessage, TimeSpan?>? RetryAfterSelector { get; }

        public bool Synthesize503 { get; }

        public TimeSpan? Timeout { get; }
    }
}
