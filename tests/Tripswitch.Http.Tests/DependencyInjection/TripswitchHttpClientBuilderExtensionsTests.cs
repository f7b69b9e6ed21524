using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Tripswitch.Http.Tests.Infrastructure;
using Xunit;

namespace Tripswitch.Http.Tests.DependencyInjection;

/// <summary><c>services.AddHttpClient("x").AddCircuitBreakerHandler(...)</c> with a real container and real servers.</summary>
public sealed class TripswitchHttpClientBuilderExtensionsTests
{
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public async Task NamedClient_UsesTheContainersRegistry_SharedByEveryClientItCreates()
    {
        await using ScriptedServer server = await ScriptedServer.StartAsync();
        server.Respond(500);
        var registry = new CircuitBreakerRegistry(new CircuitBreakerOptions { TimeProvider = _time, FailureThreshold = 2 });
        var services = new ServiceCollection();
        services.AddSingleton(registry);
        services.AddHttpClient("x", client => client.BaseAddress = server.BaseAddress).AddCircuitBreakerHandler();
        await using ServiceProvider provider = services.BuildServiceProvider();
        var factory = provider.GetRequiredService<IHttpClientFactory>();

        using (HttpClient first = factory.CreateClient("x"))
        {
            (await first.GetAsync(new Uri("one", UriKind.Relative), TestContext.Current.CancellationToken)).Dispose();
        }

        using (HttpClient second = factory.CreateClient("x"))
        {
            (await second.GetAsync(new Uri("two", UriKind.Relative), TestContext.Current.CancellationToken)).Dispose();
            await Assert.ThrowsAsync<CircuitOpenException>(() => second.GetAsync(new Uri("three", UriKind.Relative), TestContext.Current.CancellationToken));
        }

        Assert.Equal(CircuitState.Open, registry.Status()[server.AuthorityKey]);
        Assert.Equal(2, registry.Get(server.AuthorityKey).GetSummary().Failed);
        Assert.Equal(2, server.Requests);
    }

    [Fact]
    public async Task WithoutARegistry_ADefaultOneIsAddedAndUsed()
    {
        await using ScriptedServer server = await ScriptedServer.StartAsync();
        var services = new ServiceCollection();
        services.AddHttpClient("x", client => client.BaseAddress = server.BaseAddress).AddCircuitBreakerHandler();
        await using ServiceProvider provider = services.BuildServiceProvider();

        using HttpClient client = provider.GetRequiredService<IHttpClientFactory>().CreateClient("x");
        using HttpResponseMessage response = await client.GetAsync(new Uri("ping", UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        CircuitBreakerRegistry registry = provider.GetRequiredService<CircuitBreakerRegistry>();
        Assert.Equal(1, registry.Get(server.AuthorityKey).GetSummary().Successful);
    }

    [Fact]
    public async Task Configure_ReachesTheHandler()
    {
        await using ScriptedServer server = await ScriptedServer.StartAsync();
        server.Respond(503);
        var registry = new CircuitBreakerRegistry(new CircuitBreakerOptions { TimeProvider = _time, FailureThreshold = 1, RecoveryTimeout = TimeSpan.FromSeconds(7) });
        var services = new ServiceCollection();
        services.AddSingleton(registry);
        services.AddHttpClient("x", client => client.BaseAddress = server.BaseAddress).AddCircuitBreakerHandler(options =>
        {
            options.KeySelector = _ => "billing-api";
            options.ReturnServiceUnavailableWhenOpen = true;
        });
        await using ServiceProvider provider = services.BuildServiceProvider();
        using HttpClient client = provider.GetRequiredService<IHttpClientFactory>().CreateClient("x");

        (await client.GetAsync(new Uri("invoices", UriKind.Relative), TestContext.Current.CancellationToken)).Dispose();
        using HttpResponseMessage rejected = await client.GetAsync(new Uri("invoices", UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, rejected.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(7), rejected.Headers.RetryAfter?.Delta);
        Assert.Equal("billing-api", Assert.Single(registry.Status().Keys));
        Assert.Equal(1, server.Requests);
    }

    [Fact]
    public async Task OtherNamedClients_AreNotProtected()
    {
        await using ScriptedServer server = await ScriptedServer.StartAsync();
        server.Respond(500);
        var registry = new CircuitBreakerRegistry(new CircuitBreakerOptions { TimeProvider = _time, FailureThreshold = 1 });
        var services = new ServiceCollection();
        services.AddSingleton(registry);
        services.AddHttpClient("protected", client => client.BaseAddress = server.BaseAddress).AddCircuitBreakerHandler();
        services.AddHttpClient("plain", client => client.BaseAddress = server.BaseAddress);
        await using ServiceProvider provider = services.BuildServiceProvider();
        var factory = provider.GetRequiredService<IHttpClientFactory>();

        using HttpClient plain = factory.CreateClient("plain");
        for (int i = 0; i < 3; i++)
        {
            using HttpResponseMessage response = await plain.GetAsync(new Uri("ping", UriKind.Relative), TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        }

        Assert.Empty(registry.Status());
        Assert.Equal(3, server.Requests);
    }
}
