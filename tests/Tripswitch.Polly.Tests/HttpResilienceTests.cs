using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Time.Testing;
using Polly;
using Tripswitch.Http;
using Tripswitch.Polly;

namespace Tripswitch.Polly.Tests;

/// <summary>The strategy in Microsoft.Extensions.Http.Resilience pipelines, against a real Kestrel server on 127.0.0.1.</summary>
public sealed class HttpResilienceTests : IAsyncDisposable
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

    [Fact]
    public async Task AddResilienceHandler_TripswitchInsideTheRetry_CountsEveryAttempt_AndTheRetryDoesNotRetryTheRejection()
    {
        _server = await ScriptedServer.StartAsync();
        _server.Respond(503);
        using ServiceProvider services = Services(tripswitchInsideRetry: true);
        HttpClient client = services.GetRequiredService<IHttpClientFactory>().CreateClient("upstream");

        CircuitOpenException rejected = await Assert.ThrowsAsync<CircuitOpenException>(() => client.GetAsync(_server.BaseAddress, TestContext.Current.CancellationToken));

        Assert.Equal(3, _server.Requests); // three failed attempts opened the circuit; the fourth attempt was rejected and not retried
        CircuitBreaker circuit = services.GetRequiredService<CircuitBreakerRegistry>().Get(_server.BaseAddress.Authority);
        Assert.Equal(CircuitState.Open, circuit.State);
        Assert.Equal(TimeSpan.FromSeconds(30), rejected.RetryAfter);
    }

    [Fact]
    public async Task AddResilienceHandler_TripswitchOutsideTheRetry_OneCallIsOneOutcome()
    {
        _server = await ScriptedServer.StartAsync();
        _server.Respond(503);
        using ServiceProvider services = Services(tripswitchInsideRetry: false);
        HttpClient client = services.GetRequiredService<IHttpClientFactory>().CreateClient("upstream");

        using HttpResponseMessage response = await client.GetAsync(_server.BaseAddress, TestContext.Current.CancellationToken);

        Assert.Equal(503, (int)response.StatusCode); // the last attempt's response reaches the caller
        Assert.Equal(4, _server.Requests); // the first attempt and three retries
        CircuitSummary summary = services.GetRequiredService<CircuitBreakerRegistry>().Get(_server.BaseAddress.Authority).GetSummary();
        Assert.Equal((1L, CircuitState.Closed), (summary.Failed, summary.State)); // one call, one failure
    }

    [Fact]
    public async Task AddResilienceHandler_RetryAfterOn429_KeepsTheCircuitOpenAsLongAsAsked()
    {
        _server = await ScriptedServer.StartAsync();
        _server.Respond(429, ("Retry-After", "40"));
        using ServiceProvider services = Services(tripswitchInsideRetry: false, failureThreshold: 1);
        HttpClient client = services.GetRequiredService<IHttpClientFactory>().CreateClient("upstream");

        using (HttpResponseMessage first = await client.GetAsync(_server.BaseAddress, TestContext.Current.CancellationToken))
        {
            Assert.Equal(429, (int)first.StatusCode);
        }

        CircuitOpenException rejected = await Assert.ThrowsAsync<CircuitOpenException>(() => client.GetAsync(_server.BaseAddress, TestContext.Current.CancellationToken));
        Assert.Equal(TimeSpan.FromSeconds(40), rejected.RetryAfter);
        Assert.Equal(4, _server.Requests); // the rejected call never reached the server
    }

    /// <summary>
    /// The standard handler's strategies, in its order (total timeout, retry, circuit breaker, attempt timeout), with
    /// Tripswitch in the circuit breaker's place (inside the retry) or outside the retry.
    /// </summary>
    private ServiceProvider Services(bool tripswitchInsideRetry, int failureThreshold = 3)
    {
        var services = new ServiceCollection();
        services.AddSingleton(new CircuitBreakerRegistry(new CircuitBreakerOptions
        {
            FailureThreshold = failureThreshold,
            RecoveryTimeout = TimeSpan.FromSeconds(30),
            TimeProvider = _time,
        }));
        services.AddHttpClient("upstream").AddResilienceHandler("tripswitch", (pipeline, context) =>
        {
            var tripswitch = new TripswitchStrategyOptions<HttpResponseMessage>
            {
                Registry = context.ServiceProvider.GetRequiredService<CircuitBreakerRegistry>(),
                KeySelector = static resilience => resilience.GetRequestMessage()!.RequestUri!.Authority,
                IsFailure = CircuitBreakerHandlerOptions.IsTransientFailure,
                RetryAfter = static response => RetryAfterParser.Parse(response, TimeProvider.System),
            };
            var retry = new HttpRetryStrategyOptions { MaxRetryAttempts = 3, Delay = TimeSpan.Zero, ShouldRetryAfterHeader = false };

            pipeline.AddTimeout(TimeSpan.FromSeconds(30));
            if (!tripswitchInsideRetry)
            {
                pipeline.AddTripswitch(tripswitch);
            }

            pipeline.AddRetry(retry);
            if (tripswitchInsideRetry)
            {
                pipeline.AddTripswitch(tripswitch);
            }

            pipeline.AddTimeout(TimeSpan.FromSeconds(10));
        });
        return services.BuildServiceProvider();
    }
}
