using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Xunit;

namespace Tripswitch.Http.Tests.DependencyInjection;

/// <summary><c>AddCircuitBreakerHandler(IConfigurationSection)</c>: named options per client, bound, validated at start-up.</summary>
public sealed class HandlerOptionsFromConfigurationTests
{
    private static HostApplicationBuilder Builder(params (string Key, string Value)[] settings)
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings.Select(s => KeyValuePair.Create<string, string?>("Http:billing:" + s.Key, s.Value)));
        return builder;
    }

    [Fact]
    public async Task Section_BindsTheClientsNamedOptions_AndTheHandlerUsesThem()
    {
        await using ScriptedServer server = await ScriptedServer.StartAsync();
        server.Respond(500);
        HostApplicationBuilder builder = Builder(("Timeout", "00:00:05"), ("ReturnServiceUnavailableWhenOpen", "true"));
        builder.Services.AddSingleton(new CircuitBreakerRegistry(new CircuitBreakerOptions { FailureThreshold = 1 }));
        builder.Services.AddHttpClient("billing", c => c.BaseAddress = server.BaseAddress)
            .AddCircuitBreakerHandler(builder.Configuration.GetSection("Http:billing"));
        builder.Services.Configure<CircuitBreakerHandlerOptions>("billing", o => o.KeySelector = _ => "billing-api");
        using IHost host = builder.Build();
        await host.StartAsync(TestContext.Current.CancellationToken);

        CircuitBreakerHandlerOptions options = host.Services.GetRequiredService<IOptionsMonitor<CircuitBreakerHandlerOptions>>().Get("billing");
        Assert.Equal(TimeSpan.FromSeconds(5), options.Timeout);
        Assert.True(options.ReturnServiceUnavailableWhenOpen);

        HttpClient client = host.Services.GetRequiredService<IHttpClientFactory>().CreateClient("billing");
        (await client.GetAsync(new Uri("a", UriKind.Relative), TestContext.Current.CancellationToken)).Dispose();
        using HttpResponseMessage rejected = await client.GetAsync(new Uri("b", UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, rejected.StatusCode); // from configuration: a 503 instead of an exception
        Assert.Equal(CircuitState.Open, host.Services.GetRequiredService<CircuitBreakerRegistry>().Status()["billing-api"]); // and the code's key selector
        Assert.Equal(1, server.Requests);
        await host.StopAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task UnknownKey_FailsStartUp_NamingTheClientTheKeyAndTheClosestOption()
    {
        HostApplicationBuilder builder = Builder(("Timout", "00:00:05"));
        builder.Services.AddHttpClient("billing").AddCircuitBreakerHandler(builder.Configuration.GetSection("Http:billing"));
        using IHost host = builder.Build();

        OptionsValidationException error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(TestContext.Current.CancellationToken));

        // The same sentence as the Tripswitch section's (OptionChecks.CheckKnownOption), not the binder's.
        Assert.Contains(
            "HttpClient 'billing': 'Timout' (at 'Http:billing:Timout') is not an option of CircuitBreakerHandlerOptions. Did you mean 'Timeout'? Valid options: ReturnServiceUnavailableWhenOpen, Timeout.",
            error.Message,
            StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnparsableValue_FailsStartUp_NamingTheClientAndTheKey()
    {
        HostApplicationBuilder builder = Builder(("ReturnServiceUnavailableWhenOpen", "yes"));
        builder.Services.AddHttpClient("billing").AddCircuitBreakerHandler(builder.Configuration.GetSection("Http:billing"));
        using IHost host = builder.Build();

        OptionsValidationException error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(TestContext.Current.CancellationToken));

        Assert.Contains("HttpClient 'billing': CircuitBreakerHandlerOptions.ReturnServiceUnavailableWhenOpen (at 'Http:billing:ReturnServiceUnavailableWhenOpen') must be true or false; 'yes' is not.", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("00:00:00")]
    [InlineData("-00:00:01")]
    public async Task TimeoutOutOfRange_FailsStartUp_NamingTheClientAndTheRange(string timeout)
    {
        HostApplicationBuilder builder = Builder(("Timeout", timeout));
        builder.Services.AddHttpClient("billing").AddCircuitBreakerHandler(builder.Configuration.GetSection("Http:billing"));
        using IHost host = builder.Build();

        OptionsValidationException error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(TestContext.Current.CancellationToken));

        Assert.Contains("HttpClient 'billing'", error.Message, StringComparison.Ordinal);
        Assert.Contains("CircuitBreakerHandlerOptions.Timeout", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OptionsFromCode_AreValidatedAtStartUpToo()
    {
        HostApplicationBuilder builder = Builder();
        builder.Services.AddHttpClient("billing").AddCircuitBreakerHandler(o => o.Timeout = TimeSpan.FromDays(-1));
        using IHost host = builder.Build();

        OptionsValidationException error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(TestContext.Current.CancellationToken));

        Assert.Contains("HttpClient 'billing'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reload_ChangesTheLiveHandlersOptions_WithoutARestart()
    {
        await using ScriptedServer server = await ScriptedServer.StartAsync();
        server.Respond(500);
        HostApplicationBuilder builder = Builder(("Timeout", "00:00:05"), ("ReturnServiceUnavailableWhenOpen", "false"));
        builder.Services.AddSingleton(new CircuitBreakerRegistry(new CircuitBreakerOptions { FailureThreshold = 1 }));
        builder.Services.AddHttpClient("billing", c => c.BaseAddress = server.BaseAddress)
            .AddCircuitBreakerHandler(builder.Configuration.GetSection("Http:billing"));
        using IHost host = builder.Build();
        await host.StartAsync(TestContext.Current.CancellationToken);
        var monitor = host.Services.GetRequiredService<IOptionsMonitor<CircuitBreakerHandlerOptions>>();
        HttpClient client = host.Services.GetRequiredService<IHttpClientFactory>().CreateClient("billing"); // its handler lives on
        (await client.GetAsync(new Uri("a", UriKind.Relative), TestContext.Current.CancellationToken)).Dispose(); // opens the circuit
        await Assert.ThrowsAsync<CircuitOpenException>(() => client.GetAsync(new Uri("b", UriKind.Relative), TestContext.Current.CancellationToken));

        builder.Configuration["Http:billing:Timeout"] = "00:00:09";
        builder.Configuration["Http:billing:ReturnServiceUnavailableWhenOpen"] = "true";
        ((IConfigurationRoot)builder.Configuration).Reload(); // raises the section's reload token, as a changed file does

        Assert.Equal(TimeSpan.FromSeconds(9), monitor.Get("billing").Timeout);
        using HttpResponseMessage rejected = await client.GetAsync(new Uri("c", UriKind.Relative), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, rejected.StatusCode); // the same handler, now answering 503
        Assert.Equal(1, server.Requests);
        await host.StopAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task Reload_WithAnInvalidValue_IsRefused_AndTheHandlerKeepsTheLastValidOptions()
    {
        await using ScriptedServer server = await ScriptedServer.StartAsync();
        server.Respond(500);
        HostApplicationBuilder builder = Builder(("ReturnServiceUnavailableWhenOpen", "true"));
        builder.Services.AddSingleton(new CircuitBreakerRegistry(new CircuitBreakerOptions { FailureThreshold = 1 }));
        builder.Services.AddHttpClient("billing", c => c.BaseAddress = server.BaseAddress)
            .AddCircuitBreakerHandler(builder.Configuration.GetSection("Http:billing"));
        using IHost host = builder.Build();
        await host.StartAsync(TestContext.Current.CancellationToken);
        HttpClient client = host.Services.GetRequiredService<IHttpClientFactory>().CreateClient("billing");
        (await client.GetAsync(new Uri("a", UriKind.Relative), TestContext.Current.CancellationToken)).Dispose(); // opens the circuit

        builder.Configuration["Http:billing:ReturnServiceUnavailableWhenOpen"] = "false";
        builder.Configuration["Http:billing:Timout"] = "00:00:09"; // a typo: the whole reload is refused
        Exception refused = Assert.ThrowsAny<Exception>(() => ((IConfigurationRoot)builder.Configuration).Reload());

        Assert.Contains("Did you mean 'Timeout'?", refused.ToString(), StringComparison.Ordinal);
        using HttpResponseMessage rejected = await client.GetAsync(new Uri("b", UriKind.Relative), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, rejected.StatusCode); // still the last valid options: a 503, not an exception
        await host.StopAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task TwoClients_HaveTheirOwnOptions()
    {
        HostApplicationBuilder builder = Builder(("Timeout", "00:00:05"));
        builder.Services.AddHttpClient("billing").AddCircuitBreakerHandler(builder.Configuration.GetSection("Http:billing"));
        builder.Services.AddHttpClient("search").AddCircuitBreakerHandler(o => o.Timeout = TimeSpan.FromSeconds(2));
        using IHost host = builder.Build();
        await host.StartAsync(TestContext.Current.CancellationToken);
        var monitor = host.Services.GetRequiredService<IOptionsMonitor<CircuitBreakerHandlerOptions>>();

        Assert.Equal(TimeSpan.FromSeconds(5), monitor.Get("billing").Timeout);
        Assert.Equal(TimeSpan.FromSeconds(2), monitor.Get("search").Timeout);
        await host.StopAsync(TestContext.Current.CancellationToken);
    }
}
