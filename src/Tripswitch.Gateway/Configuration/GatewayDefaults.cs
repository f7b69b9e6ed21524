namespace Tripswitch.Gateway.Configuration;

/// <summary>The gateway's defaults and limits, in one place.</summary>
internal static class GatewayDefaults
{
    public const int MaxRequestBodyBytes = 1024 * 1024;
    public const int MinRequestBodyBytes = 1024;
    public const int MaxMaxRequestBodyBytes = 64 * 1024 * 1024;

    public static readonly TimeSpan UpstreamTimeout = TimeSpan.FromSeconds(100);
    public static readonly TimeSpan MaxUpstreamTimeout = TimeSpan.FromHours(1);
    public static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan MaxConnectTimeout = TimeSpan.FromMinutes(5);

    /// <summary>The values of <c>Providers:{name}:HttpVersion</c>: HTTP/1.1 (the default) and HTTP/2.</summary>
    public const string HttpVersion11 = "1.1";
    public const string HttpVersion2 = "2";

    /// <summary>Where the gateway listens when no URL is configured (loopback only).</summary>
    public const string Url = "http://127.0.0.1:4000";

    /// <summary>The name of the embedded offline provider.</summary>
    public const string OfflineProvider = "fake";
}
