using Microsoft.Extensions.Time.Testing;

namespace Tripswitch.Http.Tests.Infrastructure;

/// <summary>
/// An <see cref="HttpClient"/> whose handler chain is a <see cref="CircuitBreakerHandler"/> over a real
/// <see cref="SocketsHttpHandler"/>, with breakers on fake time: by default one failure opens a circuit for 5 s.
/// </summary>
internal sealed class BreakerClient : IDisposable
{
    public static readonly TimeSpan Recovery = TimeSpan.FromSeconds(5);

    public BreakerClient(
        FakeTimeProvider time,
        Action<CircuitBreakerOptions>? configure = null,
        CircuitBreakerHandlerOptions? handlerOptions = null)
    {
        Registry = TestBreakers.Registry(time, o =>
        {
            o.FailureThreshold = 1;
            o.RecoveryTimeout = Recovery;
            configure?.Invoke(o);
        });
        Http = new HttpClient(new CircuitBreakerHandler(Registry, handlerOptions) { InnerHandler = new SocketsHttpHandler() });
    }

    public CircuitBreakerRegistry Registry { get; }

    public HttpClient Http { get; }

    /// <summary>The circuit the handler created for <paramref name="key"/>; fails when there is none.</summary>
    public CircuitBreaker Circuit(string key)
        => Registry.TryGet(key, out CircuitBreaker? breaker) ? breaker : throw new Xunit.Sdk.XunitException($"No circuit '{key}' in the registry; it has: {string.Join(", ", Registry.Status().Keys)}");

    public CircuitBreaker Circuit(ScriptedServer server) => Circuit(server.AuthorityKey);

    /// <summary>GETs <paramref name="path"/> of <paramref name="server"/>, cancelled only with the test.</summary>
    public Task<HttpResponseMessage> GetAsync(ScriptedServer server, string path = "ping")
        => Http.GetAsync(new Uri(server.BaseAddress, path), Xunit.TestContext.Current.CancellationToken);

    /// <summary>GETs <paramref name="server"/> with the caller's own token.</summary>
    public Task<HttpResponseMessage> GetAsync(ScriptedServer server, CancellationToken cancellationToken)
        => Http.GetAsync(new Uri(server.BaseAddress, "ping"), cancellationToken);

    public void Dispose() => Http.Dispose();
}
