using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;

namespace Tripswitch.Gateway.Configuration;

/// <summary>
/// Gives Kestrel the validated <see cref="GatewayOptions.Limits"/> (and turns its <c>Server</c> header off). Kestrel reads its options when it starts, after the
/// gateway's options were validated, so an invalid limit never reaches it. The same limits under <c>Kestrel:Limits</c>
/// are refused by <see cref="GatewayOptionsValidator"/>, so nothing configured is silently overridden.
/// </summary>
internal sealed class KestrelLimits(IOptions<GatewayOptions> gateway) : IConfigureOptions<KestrelServerOptions>
{
    public void Configure(KestrelServerOptions options)
    {
        options.AddServerHeader = false; // no "Server: Kestrel": the gateway names neither its server nor its upstream's
        LimitsOptions limits = gateway.Value.Limits;
        KestrelServerLimits kestrel = options.Limits;
        kestrel.MaxConcurrentConnections = limits.MaxConnections;
        kestrel.RequestHeadersTimeout = limits.RequestHeadersTimeout;
        kestrel.KeepAliveTimeout = limits.KeepAliveTimeout;
        kestrel.MinRequestBodyDataRate = limits.MinRequestBodyDataRate == 0
            ? null // no minimum
            : new MinDataRate(limits.MinRequestBodyDataRate, limits.MinRequestBodyDataRateGracePeriod);
        kestrel.MaxRequestHeadersTotalSize = limits.MaxRequestHeadersTotalSize;
    }
}
