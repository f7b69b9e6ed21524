namespace Tripswitch.Gateway.Configuration;

/// <summary>The gateway's defaults and limits, in one place.</summary>
internal static class GatewayDefaults
{
    public const int MaxRequestBodyBytes = 1024 * 1024;
    public const int MinRequestBodyBytes = 1024;
    public const int MaxMaxRequestBodyBytes = 64 * 1024 * 1024;

    /// <summary>
    /// The first buffer a request body is read into; it doubles as bytes arrive (up to the limit), so memory follows
    /// the bytes received, never the <c>Content-Length</c> a client declares.
    /// </summary>
    public const int InitialRequestBodyBuffer = 8 * 1024;

    /// <summary>
    /// How deeply a request body's JSON may nest (System.Text.Json's default). OpenAI's structured outputs allow 10
    /// levels of schema, about 35 levels of JSON inside a request; deeper bodies get 400.
    /// </summary>
    public const int MaxRequestBodyDepth = 64;

    public static readonly TimeSpan UpstreamTimeout = TimeSpan.FromSeconds(100);
    public static readonly TimeSpan MaxUpstreamTimeout = TimeSpan.FromHours(1);
    public static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan MaxConnectTimeout = TimeSpan.FromMinutes(5);

    public static readonly TimeSpan AdminSessionLifetime = TimeSpan.FromHours(8);
    public static readonly TimeSpan MinAdminSessionLifetime = TimeSpan.FromMinutes(1);
    public static readonly TimeSpan MaxAdminSessionLifetime = TimeSpan.FromDays(30);

    /// <summary>The values of <c>Providers:{name}:HttpVersion</c>: HTTP/1.1 and HTTP/2 (unset: negotiated, see <c>ProviderOptions.HttpVersion</c>).</summary>
    public const string HttpVersion11 = "1.1";
    public const string HttpVersion2 = "2";

    // Limits on what clients may hold (Gateway:Limits, Gateway:MaxConcurrentRequestsPerClient).

    /// <summary>
    /// Kestrel's concurrent connection limit. A process here may hold at most 20,000 open files, and each client
    /// connection is one; half of that leaves room for the upstream connections, Redis and the runtime.
    /// </summary>
    public const int MaxConnections = 10_000;
    public const int MaxMaxConnections = 1_000_000;

    /// <summary>How long a client may take to send a request's headers (a slow-headers client holds a connection).</summary>
    public static readonly TimeSpan RequestHeadersTimeout = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan MinRequestHeadersTimeout = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan MaxRequestHeadersTimeout = TimeSpan.FromMinutes(5);

    /// <summary>How long an idle connection is kept open between requests.</summary>
    public static readonly TimeSpan KeepAliveTimeout = TimeSpan.FromSeconds(60);
    public static readonly TimeSpan MinKeepAliveTimeout = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan MaxKeepAliveTimeout = TimeSpan.FromHours(1);

    /// <summary>The slowest a request body may arrive, in bytes per second, after its grace period (0: no minimum).</summary>
    public const int MinRequestBodyDataRate = 240;
    public const int MaxMinRequestBodyDataRate = 1024 * 1024;

    /// <summary>How long a request body may arrive slower than <see cref="MinRequestBodyDataRate"/> at first. Kestrel needs more than its 1 s heartbeat.</summary>
    public static readonly TimeSpan MinRequestBodyDataRateGracePeriod = TimeSpan.FromSeconds(5);
    public static readonly TimeSpan MinMinRequestBodyDataRateGracePeriod = TimeSpan.FromSeconds(2);
    public static readonly TimeSpan MaxMinRequestBodyDataRateGracePeriod = TimeSpan.FromMinutes(5);

    /// <summary>The largest total size of a request's headers, in bytes.</summary>
    public const int MaxRequestHeadersTotalSize = 32 * 1024;
    public const int MinMaxRequestHeadersTotalSize = 4 * 1024;
    public const int MaxMaxRequestHeadersTotalSize = 1024 * 1024;

    /// <summary>The valid range of <c>Gateway:MaxConcurrentRequestsPerClient</c> (unset: no limit).</summary>
    public const int MinConcurrentRequestsPerClient = 1;
    public const int MaxConcurrentRequestsPerClient = 100_000;

    /// <summary>Where the gateway listens when no URL is configured (loopback only).</summary>
    public const string Url = "http://127.0.0.1:4000";

    /// <summary>The name of the embedded offline provider.</summary>
    public const string OfflineProvider = "fake";
}
