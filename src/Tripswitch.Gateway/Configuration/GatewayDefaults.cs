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

    /// <summary>Where the gateway listens when no URL is configured (loopback only).</summary>
    public const string Url = "http://127.0.0.1:4000";

    /// <summary>The name of the embedded offline provider.</summary>
    public const string OfflineProvider = "fake";
}
