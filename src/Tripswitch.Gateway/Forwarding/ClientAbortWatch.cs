using Microsoft.AspNetCore.Http.Features;

namespace Tripswitch.Gateway.Forwarding;

/// <summary>
/// Tells a client that went away from a connection the gateway itself aborted. YARP aborts the client's connection
/// when an upstream cuts a streamed body or times out midway, which cancels <c>RequestAborted</c> just as a client
/// disconnect does; the first counts against the circuit, the second counts as neither. This wraps the request's
/// lifetime feature and notes, at the moment the token is cancelled, whether the gateway had asked for the abort.
/// </summary>
internal sealed class ClientAbortWatch : IHttpRequestLifetimeFeature, IDisposable
{
    private readonly IHttpRequestLifetimeFeature _inner;
    private readonly CancellationTokenRegistration _registration;
    private volatile bool _abortedByGateway;
    private volatile bool _clientGone;

    private ClientAbortWatch(IHttpRequestLifetimeFeature inner)
    {
        _inner = inner;
        _registration = inner.RequestAborted.UnsafeRegister(static state =>
        {
            var watch = (ClientAbortWatch)state!;
            watch._clientGone = !watch._abortedByGateway;
        }, this);
    }

    /// <summary>Whether the client went away (its connection closed without the gateway aborting it).</summary>
    public bool ClientGone => _clientGone;

    public CancellationToken RequestAborted
    {
        get => _inner.RequestAborted;
        set => _inner.RequestAborted = value;
    }

    /// <summary>Installs a watch on the request's features (replacing its lifetime feature with this wrapper).</summary>
    public static ClientAbortWatch Install(IFeatureCollection features)
    {
        var watch = new ClientAbortWatch(features.GetRequiredFeature<IHttpRequestLifetimeFeature>());
        features.Set<IHttpRequestLifetimeFeature>(watch);
        return watch;
    }

    public void Abort()
    {
        _abortedByGateway = true;
        _inner.Abort();
    }

    public void Dispose() => _registration.Dispose();
}
