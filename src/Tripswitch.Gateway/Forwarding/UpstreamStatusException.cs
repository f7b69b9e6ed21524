using System.Net;
using Tripswitch.Gateway.Routing;

namespace Tripswitch.Gateway.Forwarding;

/// <summary>The failure a circuit records for an upstream's error status (the circuit's state-change handlers and logs see it).</summary>
internal sealed class UpstreamStatusException(UpstreamRoute route, HttpStatusCode status)
    : HttpRequestException($"The upstream of circuit '{route.CircuitName}' answered {(int)status} ({status}).", inner: null, status);
