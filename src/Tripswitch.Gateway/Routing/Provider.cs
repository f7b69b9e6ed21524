using Microsoft.AspNetCore.Http;
using System.Net;
using System.Net.Http.Headers;
using Tripswitch.Gateway.Configuration;
using Yarp.ReverseProxy.Forwarder;

namespace Tripswitch.Gateway.Routing;

/// <summary>
/// One configured upstream. Holds the provider's API key and is the only place that writes it into a request; the key
/// is never exposed otherwise (<see cref="ToString"/> names the provider and its base URL only).
/// </summary>
internal sealed class Provider : IDisposable
{
    private readonly string? _apiKey;
    private readonly string _apiKeyHeader;
    private readonly bool _bearer;

    public Provider(string name, Uri baseUrl, string? apiKey, string apiKeyHeader, TimeSpan timeout, TimeSpan connectTimeout, string? httpVersion)
    {
        // Its own connection pool. No proxy from the environment, no redirects, no cookies: a request goes to this
        // provider's address and nowhere else, whatever the client or the upstream says.
        Invoker = new HttpMessageInvoker(new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = System.Net.DecompressionMethods.None,
            UseCookies = false,
            ConnectTimeout = connectTimeout,
            EnableMultipleHttp2Connections = true,
        }, disposeHandler: true);
        Name = name;
        // Endpoints are appended to the base URL's path: keep exactly one trailing slash.
        BaseUrl = new Uri(baseUrl.AbsoluteUri.TrimEnd('/') + "/", UriKind.Absolute);
        _apiKey = string.IsNullOrEmpty(apiKey) ? null : apiKey;
        _apiKeyHeader = apiKeyHeader;
        _bearer = string.Equals(apiKeyHeader, "Authorization", StringComparison.OrdinalIgnoreCase);
        RequestConfig = httpVersion is null
            ? new ForwarderRequestConfig { ActivityTimeout = timeout } // YARP's default: HTTP/2 negotiated over https, else HTTP/1.1
            : new ForwarderRequestConfig { ActivityTimeout = timeout, Version = VersionFor(httpVersion), VersionPolicy = PolicyFor(httpVersion, BaseUrl) };
    }

    /// <summary>Sends the forwarded requests (YARP needs an invoker, never an HttpClient, so responses stream).</summary>
    public HttpMessageInvoker Invoker { get; }

    /// <summary>The provider's name: the first half of its circuits' names.</summary>
    public string Name { get; }

    /// <summary>The API root, ending with a slash (<c>https://api.example.com/v1/</c>).</summary>
    public Uri BaseUrl { get; }

    /// <summary>YARP's per-request settings: the activity timeout (silence before headers, then between body reads) and the HTTP version.</summary>
    public ForwarderRequestConfig RequestConfig { get; }

    /// <summary>The destination prefix YARP is given (scheme, host and port of <see cref="BaseUrl"/>).</summary>
    public string DestinationPrefix => BaseUrl.GetLeftPart(UriPartial.Authority);

    /// <summary>The address of <paramref name="endpoint"/> (<c>chat/completions</c>) at this provider. Nothing from the client is used but the query string.</summary>
    public Uri AddressOf(string endpoint, QueryString query) => new(BaseUrl, endpoint + query.ToUriComponent());

    /// <summary>
    /// Writes the provider's credentials into <paramref name="request"/>: whatever its key header held is removed
    /// first (so a client's value is never merged with the key), also for a provider without a key, which then sends
    /// no credential at all.
    /// </summary>
    public void Authenticate(HttpRequestMessage request)
    {
        request.Headers.Remove(_apiKeyHeader);
        if (_apiKey is null)
        {
            return;
        }

        if (_bearer)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _apiKey);
        }
        else
        {
            request.Headers.TryAddWithoutValidation(_apiKeyHeader, _apiKey);
        }
    }

    public void Dispose() => Invoker.Dispose();

    private static Version VersionFor(string httpVersion) => httpVersion == GatewayDefaults.HttpVersion2 ? HttpVersion.Version20 : HttpVersion.Version11;

    // HTTP/2 over TLS is negotiated (ALPN), so a provider without it still answers over HTTP/1.1. Cleartext has no
    // negotiation HttpClient supports (no Upgrade: h2c), so http:// must be HTTP/2 with prior knowledge, exactly.
    // HTTP/1.1 is asked for exactly as well: "or lower" would only allow HTTP/1.0.
    private static HttpVersionPolicy PolicyFor(string httpVersion, Uri baseUrl)
        => httpVersion == GatewayDefaults.HttpVersion2 && baseUrl.Scheme == Uri.UriSchemeHttps ? HttpVersionPolicy.RequestVersionOrLower : HttpVersionPolicy.RequestVersionExact;

    /// <inheritdoc/>
    public override string ToString() => $"{Name} ({BaseUrl})";
}
