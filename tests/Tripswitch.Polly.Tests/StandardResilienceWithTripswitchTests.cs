using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Time.Testing;
using Polly.RateLimiting;

namespace Tripswitch.Polly.Tests;

/// <summary>
/// AddStandardResilienceHandlerWithTripswitch against a real Kestrel server on 127.0.0.1: the standard pipeline (rate
/// limiter, retry, timeouts, its options' binding and reload) with a Tripswitch circuit, named as the HTTP handler names
/// it, in place of Polly's circuit breaker.
/// </summary>
public sealed class StandardResilienceWithTripswitchTests : IAsyncDisposable
{
    private readonly FakeTimeProvider _time = new();
    private ScriptedServer? _server;

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    private ServiceProvider Services(Action<IHttpStandardResiliencePipelineBuilder> configure, int failureThreshold)
    {
        var services = new ServiceCollection();
        services.AddSingleton(new CircuitBreakerRegistry(new CircuitBreakerOptions
        {
            FailureThreshold = failureThreshold,
            RecoveryTimeout = TimeSpan.FromSeconds(30),
            TimeProvider = _time,
        }));
        configure(services.AddHttpClient("upstream", c => c.BaseAddress = _server!.BaseAddress).AddStandardResilienceHandlerWithTripswitch());
        return services.BuildServiceProvider();
    }

    private static void NoRetryDelay(HttpStandardResilienceOptions options) => options.Retry.Delay = TimeSpan.Zero; // no real-time waits between attempts

    [Fact]
    public async Task FailuresTripTheCircuitNamedLikeTheHttpHandlers_AndItsRejectionIsNotRetried()
    {
        _server = await ScriptedServer.StartAsync();
        _server.Respond(503);
        using ServiceProvider services = Services(b => b.Configure(NoRetryDelay), failureThreshold: 2);
        HttpClient client = services.GetRequiredService<IHttpClientFactory>().CreateClient("upstream");

        CircuitOpenException rejected = await Assert.ThrowsAsync<CircuitOpenException>(() => client.GetAsync(new Uri("v1", UriKind.Relative), TestContext.Current.CancellationToken));

        Assert.Equal(2, _server.Requests); // two failed attempts opened the circuit; the third attempt was rejected, not retried
        Assert.Equal(_server.AuthorityKey, rejected.CircuitName); // 127.0.0.1-port, as Tripswitch.Http names it
        Assert.Equal(CircuitState.Open, services.GetRequiredService<CircuitBreakerRegistry>().Status()[_server.AuthorityKey]);
        Assert.Equal(TimeSpan.FromSeconds(30), rejected.RetryAfter);
    }

    [Fact]
    public async Task TheStandardRateLimiterStays_AndTheCircuitNeverSeesItsRejections()
    {
        _server = await ScriptedServer.StartAsync();
        ScriptedServer.ServerHang hang = _server.Hang();
        using ServiceProvider services = Services(
            b => b.Configure(o =>
            {
                NoRetryDelay(o);
                o.RateLimiter.DefaultRateLimiterOptions.PermitLimit = 1;
                o.RateLimiter.DefaultRateLimiterOptions.QueueLimit = 0;
            }),
            failureThreshold: 1);
        HttpClient client = services.GetRequiredService<IHttpClientFactory>().CreateClient("upstream");

        Task<HttpResponseMessage> first = client.GetAsync(new Uri("v1", UriKind.Relative), TestContext.Current.CancellationToken);
        await hang.Entered.WaitAsync(TestContext.Current.CancellationToken);
        await Assert.ThrowsAsync<RateLimiterRejectedException>(() => client.GetAsync(new Uri("v1", UriKind.Relative), TestContext.Current.CancellationToken));
        hang.Release();
        using HttpResponseMessage response = await first;

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal(1, _server.Requests);
        CircuitSummary summary = services.GetRequiredService<CircuitBreakerRegistry>().Get(_server.AuthorityKey).GetSummary();
        Assert.Equal((1L, 1L, 0L, 0L), (summary.TotalCalls, summary.Successful, summary.Failed, summary.Rejected)); // threshold 1, still closed
        Assert.Equal(CircuitState.Closed, summary.State);
    }

    [Fact]
    public async Task TheStandardOptionsBindFromConfiguration_AndReload()
    {
        _server = await ScriptedServer.StartAsync();
        _server.Respond(503);
        IConfigurationRoot configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Http:Retry:MaxRetryAttempts"] = "1",
                ["Http:Retry:Delay"] = "00:00:00",
            })
            .Build();
        using ServiceProvider services = Services(b => b.Configure(configuration.GetSection("Http")), failureThreshold: 100);
        HttpClient client = services.GetRequiredService<IHttpClientFactory>().CreateClient("upstream");

        using (HttpResponseMessage response = await client.GetAsync(new Uri("v1", UriKind.Relative), TestContext.Current.CancellationToken))
        {
            Assert.Equal(503, (int)response.StatusCode);
        }

        Assert.Equal(2, _server.Requests); // one attempt, one retry

        configuration["Http:Retry:MaxRetryAttempts"] = "3";
        configuration.Reload();
        using (HttpResponseMessage response = await client.GetAsync(new Uri("v1", UriKind.Relative), TestContext.Current.CancellationToken))
        {
            Assert.Equal(503, (int)response.StatusCode);
        }

        Assert.Equal(2 + 4, _server.Requests); // the reloaded options: one attempt, three retries
        Assert.Equal(6, services.GetRequiredService<CircuitBreakerRegistry>().Get(_server.AuthorityKey).GetSummary().Failed); // inside the retry: every attempt
    }

    [Fact]
    public async Task A429sRetryAfter_KeepsTheCircuitOpenAsLongAsAsked_WithTheHttpHandlersRules()
    {
        _server = await ScriptedServer.StartAsync();
        _server.Respond(429, ("Retry-After", "40"));
        var opened = new List<CircuitTransition>();
        var services = new ServiceCollection();
        services.AddSingleton(new CircuitBreakerRegistry(new CircuitBreakerOptions { FailureThreshold = 1, RecoveryTimeout = TimeSpan.FromSeconds(5), TimeProvider = _time }));
        services.AddHttpClient("upstream", c => c.BaseAddress = _server.BaseAddress)
            .AddStandardResilienceHandlerWithTripswitch(o => o.OnOpened = t =>
            {
                opened.Add(t);
                return ValueTask.CompletedTask;
            })
            .Configure(o =>
            {
                NoRetryDelay(o);
                o.Retry.ShouldRetryAfterHeader = false; // the retry would otherwise wait the 40 s on real time
            });
        await using ServiceProvider provider = services.BuildServiceProvider();
        HttpClient client = provider.GetRequiredService<IHttpClientFactory>().CreateClient("upstream");

        CircuitOpenException rejected = await Assert.ThrowsAsync<CircuitOpenException>(() => client.GetAsync(new Uri("v1", UriKind.Relative), TestContext.Current.CancellationToken));

        Assert.Equal(1, _server.Requests); // 429 is a failure (IsTransientFailure); the retry's next attempt is rejected
        Assert.Equal(TimeSpan.FromSeconds(40), rejected.RetryAfter); // Retry-After, not the 5 s RecoveryTimeout
        CircuitTransition transition = Assert.Single(opened);
        Assert.Equal((_server.AuthorityKey, CircuitState.Open), (transition.CircuitName, transition.To));
    }
}
