using System.Globalization;
using System.Net;

namespace Tripswitch.Http;

/// <summary>Options of a <see cref="CircuitBreakerHandler"/>.</summary>
public sealed class CircuitBreakerHandlerOptions
{
    /// <summary>
    /// Chooses the circuit of a request. Requests with the same key share a circuit in the registry.
    /// </summary>
    /// <value>
    /// Defaults to <see langword="null"/>: one circuit per authority, named by <see cref="AuthorityKey(Uri)"/>
    /// (<c>api.openai.com</c>, <c>127.0.0.1-4100</c>). Use e.g. host + path, or a model name, for finer circuits.
    /// </value>
    public Func<HttpRequestMessage, string>? KeySelector { get; set; }

    /// <summary>Decides which responses are failures.</summary>
    /// <value>Defaults to <see langword="null"/>: 5xx, 408 (Request Timeout) and 429 (Too Many Requests) are failures; every other response is a success.</value>
    public Func<HttpResponseMessage, bool>? IsFailure { get; set; }

    /// <summary>
    /// Extracts how long the server asked callers to wait from a failed response.
    /// </summary>
    /// <value>
    /// Defaults to <see langword="null"/>: <see cref="RetryAfterParser"/> reads <c>Retry-After</c> (seconds or HTTP date),
    /// <c>retry-after-ms</c> and the <c>x-ratelimit-reset-*</c> headers LLM APIs send. Malformed values are ignored.
    /// </value>
    public Func<HttpResponseMessage, TimeSpan?>? RetryAfterSelector { get; set; }

    /// <summary>
    /// How long the handler waits for the response (until its headers arrive) before it cancels the request, counts it
    /// as a failure (a <see cref="TimeoutException"/>) and throws a <see cref="TaskCanceledException"/> whose inner
    /// exception is that <see cref="TimeoutException"/>, as <see cref="HttpClient"/> does for its own timeout. It runs on
    /// the circuit's <see cref="CircuitBreakerOptions.TimeProvider"/>.
    /// </summary>
    /// <remarks>
    /// Set this to count hung requests against the circuit. <see cref="HttpClient.Timeout"/> cannot be counted:
    /// <see cref="HttpClient"/> enforces it by cancelling the token it passes down the handler chain, so inside a handler
    /// its timeout looks exactly like the caller's own cancellation, which is never a failure. Keep this timeout shorter
    /// than <see cref="HttpClient.Timeout"/> (100 seconds by default), or set that one to
    /// <see cref="System.Threading.Timeout.InfiniteTimeSpan"/>.
    /// </remarks>
    /// <value>
    /// Defaults to <see langword="null"/>: the handler sets no timeout of its own (as does
    /// <see cref="System.Threading.Timeout.InfiniteTimeSpan"/>). Valid range: 1 millisecond to <see cref="int.MaxValue"/> milliseconds.
    /// </value>
    public TimeSpan? Timeout { get; set; }

    /// <summary>
    /// While a circuit rejects calls, return a synthesized <c>503 Service Unavailable</c> response with a
    /// <c>Retry-After</c> header instead of throwing <see cref="CircuitOpenException"/> (for callers that handle HTTP
    /// responses rather than exceptions).
    /// </summary>
    /// <value>Defaults to <see langword="false"/>: the handler throws <see cref="CircuitOpenException"/>.</value>
    public bool ReturnServiceUnavailableWhenOpen { get; set; }

    /// <summary>Every problem with these options, as data (option, value, valid range, message); empty when they are valid.</summary>
    /// <returns>The errors.</returns>
    public IReadOnlyList<OptionError> GetValidationErrors()
    {
        var errors = new List<OptionError>();
        if (Timeout is { } timeout && timeout != System.Threading.Timeout.InfiniteTimeSpan)
        {
            OptionChecks.CheckRange(errors, nameof(CircuitBreakerHandlerOptions), nameof(Timeout), timeout, MinTimeout, MaxTimeout);
        }

        return errors;
    }

    /// <summary>Throws the first of <see cref="GetValidationErrors"/>: an <see cref="ArgumentOutOfRangeException"/> naming the option and its valid range.</summary>
    /// <exception cref="ArgumentException">An option is invalid.</exception>
    public void Validate() => OptionChecks.ThrowIfAny(GetValidationErrors());

    /// <summary>Problems found when these options were read from a configuration section (unknown keys, values that don't parse); reported with <see cref="GetValidationErrors"/>'s by the start-up validation.</summary>
    internal IReadOnlyList<OptionError> ConfigurationErrors { get; set; } = [];

    /// <summary>The shortest <see cref="Timeout"/>.</summary>
    internal static readonly TimeSpan MinTimeout = TimeSpan.FromMilliseconds(1);

    /// <summary>The longest <see cref="Timeout"/>: what a <see cref="CancellationTokenSource"/> timer accepts.</summary>
    internal static readonly TimeSpan MaxTimeout = TimeSpan.FromMilliseconds(int.MaxValue);

    /// <summary>The default failure rule: 5xx, 408 and 429.</summary>
    /// <param name="response">The response.</param>
    /// <returns>Whether the response counts as a failure.</returns>
    public static bool IsTransientFailure(HttpResponseMessage response)
    {
        ArgumentNullException.ThrowIfNull(response);
        int code = (int)response.StatusCode;
        return code >= 500 || response.StatusCode is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests;
    }

    /// <summary>
    /// The default key: the circuit name of the request's authority, as <see cref="AuthorityKey(Uri)"/> writes it
    /// (<c>api.openai.com</c>, <c>127.0.0.1-4100</c>).
    /// </summary>
    /// <param name="request">The request.</param>
    /// <returns>The key, a name configuration accepts (<c>Tripswitch:Circuits:127.0.0.1-4100</c>).</returns>
    /// <exception cref="InvalidOperationException">The request has no absolute URI.</exception>
    public static string AuthorityKey(HttpRequestMessage request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return request.RequestUri is { IsAbsoluteUri: true } absolute
            ? AuthorityKey(absolute)
            : throw new InvalidOperationException("The request has no absolute RequestUri, so its circuit can't be chosen by authority; set HttpClient.BaseAddress or a KeySelector.");
    }

    /// <summary>
    /// The circuit name of a URI's authority, the one rule behind the handler's default circuits (and the Polly HTTP
    /// pipelines that share them): the host, lower-cased, then <c>-</c> and the port only when the port is not the
    /// scheme's default, with every <c>:</c> written as <c>-</c> (an IPv6 address keeps its brackets). The scheme, path,
    /// query and user info are not part of it. The name never contains <c>:</c>, so configuration can name it:
    /// <c>"Tripswitch": { "Circuits": { "127.0.0.1-4100": { "FailureThreshold": 3 } } }</c>.
    /// </summary>
    /// <remarks>
    /// <c>https://api.openai.com/v1/chat</c> → <c>api.openai.com</c>; <c>http://127.0.0.1:4100/</c> →
    /// <c>127.0.0.1-4100</c>; <c>https://API.Example.com:8443</c> → <c>api.example.com-8443</c>;
    /// <c>http://[::1]:5000</c> → <c>[--1]-5000</c>. An internationalized host is written in its ASCII (punycode) form.
    /// Because the scheme is left out, <c>http://host</c> and <c>https://host</c> share a circuit.
    /// </remarks>
    /// <param name="uri">An absolute URI.</param>
    /// <returns>The circuit name.</returns>
    /// <exception cref="ArgumentException"><paramref name="uri"/> is not absolute or has no host.</exception>
    public static string AuthorityKey(Uri uri)
    {
        ArgumentNullException.ThrowIfNull(uri);
        if (!uri.IsAbsoluteUri || uri.Host.Length == 0)
        {
            throw new ArgumentException($"The URI '{uri}' has no host; a circuit is chosen by the authority of an absolute URI with a host (such as https://api.openai.com/v1/).", nameof(uri));
        }

        // IdnHost is ASCII (punycode) for DNS names but drops an IPv6 address's brackets; Host keeps them (without a zone id).
        string host = uri.HostNameType == UriHostNameType.IPv6 ? uri.Host : uri.IdnHost;
        string authority = uri.IsDefaultPort || uri.Port < 0
            ? host
            : string.Create(CultureInfo.InvariantCulture, $"{host}-{uri.Port}");
        return authority.Replace(':', '-').ToLowerInvariant();
    }
}
