using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Abstractions;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Tripswitch.Gateway.Security;

/// <summary>
/// Wraps the server (Kestrel) so that each request's <c>key</c> query parameter is lifted out of its URL
/// (<see cref="QueryKey.Lift"/>) before the host creates the request's context. The host logs "Request starting …"
/// with the URL at that moment, before any middleware runs; lifting it here is the one way no log at any level sees it.
/// </summary>
internal sealed class KeyLiftingServer(IServer inner) : IServer
{
    public IFeatureCollection Features => inner.Features;

    public Task StartAsync<TContext>(IHttpApplication<TContext> application, CancellationToken cancellationToken)
        where TContext : notnull
        => inner.StartAsync(new Application<TContext>(application), cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => inner.StopAsync(cancellationToken);

    public void Dispose() => inner.Dispose();

    /// <summary>Replaces the registered <see cref="IServer"/> with itself around it.</summary>
    public static void Install(IServiceCollection services)
    {
        ServiceDescriptor server = services.LastOrDefault(static d => d.ServiceType == typeof(IServer))
            ?? throw new InvalidOperationException("The gateway needs a server (Kestrel) registered before its services are added.");
        services.Remove(server);
        services.AddSingleton<IServer>(sp => new KeyLiftingServer(
            server.ImplementationInstance as IServer
            ?? server.ImplementationFactory?.Invoke(sp) as IServer
            ?? (IServer)ActivatorUtilities.CreateInstance(sp, server.ImplementationType!)));
    }

    /// <summary>The host's application with the key lifted first; context pooling passes through.</summary>
    private sealed class Application<TContext>(IHttpApplication<TContext> inner) : IHttpApplication<TContext>, IHostContextContainer<TContext>
        where TContext : notnull
    {
        public TContext? HostContext
        {
            get => inner is IHostContextContainer<TContext> container ? container.HostContext : default;
            set
            {
                if (inner is IHostContextContainer<TContext> container)
                {
                    container.HostContext = value;
                }
            }
        }

        public TContext CreateContext(IFeatureCollection contextFeatures)
        {
            QueryKey.Lift(contextFeatures);
            return inner.CreateContext(contextFeatures);
        }

        public Task ProcessRequestAsync(TContext context) => inner.ProcessRequestAsync(context);

        public void DisposeContext(TContext context, Exception? exception) => inner.DisposeContext(context, exception);
    }
}
