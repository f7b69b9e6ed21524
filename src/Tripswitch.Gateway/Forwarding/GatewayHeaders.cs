namespace Tripswitch.Gateway.Forwarding;

/// <summary>The response headers the gateway adds.</summary>
internal static class GatewayHeaders
{
    /// <summary>The model that answered, as its provider names it.</summary>
    public const string Model = "X-Tripswitch-Model";

    /// <summary>The circuit that answered (<c>provider/model</c>), or the circuits that refused on a 503.</summary>
    public const string Circuit = "X-Tripswitch-Circuit";

    /// <summary>On a fallback's answer: the model the client asked for.</summary>
    public const string FallbackFrom = "X-Tripswitch-Fallback-From";
}
