namespace Tripswitch.Gateway.Configuration;

/// <summary>
/// The <c>Gateway:Limits</c> section: what one client connection may hold in Kestrel, with defaults safe in front of
/// the internet. The gateway gives these to Kestrel (<see cref="KestrelLimits"/>); setting the same limits under
/// <c>Kestrel:Limits</c> as well is refused at start-up, so that one place decides each.
/// </summary>
internal sealed class LimitsOptions
{
    /// <summary>The most client connections held at once; more wait in the listen backlog. Default 10,000; 1 to 1,000,000.</summary>
    public int MaxConnections { get; set; } = GatewayDefaults.MaxConnections;

    /// <summary>How long a client may take to send a request's headers; then the connection is closed (408). Default 10 s; 1 s to 5 minutes.</summary>
    public TimeSpan RequestHeadersTimeout { get; set; } = GatewayDefaults.RequestHeadersTimeout;

    /// <summary>How long an idle connection stays open between requests. Default 60 s; 1 s to 1 hour.</summary>
    public TimeSpan KeepAliveTimeout { get; set; } = GatewayDefaults.KeepAliveTimeout;

    /// <summary>
    /// The slowest a request body may arrive, in bytes per second, once <see cref="MinRequestBodyDataRateGracePeriod"/>
    /// has passed; a slower client is cut. Default 240; 0 (no minimum) to 1,048,576.
    /// </summary>
    public int MinRequestBodyDataRate { get; set; } = GatewayDefaults.MinRequestBodyDataRate;

    /// <summary>How long a request body may arrive slower than <see cref="MinRequestBodyDataRate"/> at first. Default 5 s; 2 s to 5 minutes.</summary>
    public TimeSpan MinRequestBodyDataRateGracePeriod { get; set; } = GatewayDefaults.MinRequestBodyDataRateGracePeriod;

    /// <summary>The largest total size of a request's headers, in bytes; larger get 431. Default 32 KiB; 4 KiB to 1 MiB.</summary>
    public int MaxRequestHeadersTotalSize { get; set; } = GatewayDefaults.MaxRequestHeadersTotalSize;
}
