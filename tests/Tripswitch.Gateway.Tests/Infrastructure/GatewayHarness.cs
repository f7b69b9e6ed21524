using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Tripswitch.FakeLlm;
using Xunit;

namespace Tripswitch.Gateway.Tests.Infrastructure;

/// <summary>
/// The gateway on 127.0.0.1 (ephemeral port) in front of a FakeLlm upstream, with fake time for every circuit and a
/// logger that captures everything. The default configuration: provider <c>fake</c> with a provider key, one client
/// key, <c>gpt-4.1</c> falling back to <c>gpt-4.1-mini</c>, <c>gpt-4o-mini</c> alone; circuits open after 2 failures
/// for 30 s.
/// </summary>
internal sealed class GatewayHarness : IAsyncDisposable
{
    public const string ClientKey = "gw-test-key-0123456789";
    public const string ProviderKey = "sk-provider-SECRET-42-abcdefgh";
    public const string AdminKey = "admin-key-0123456789abcdef";

    private GatewayHarness(WebApplication app, FakeLlmServer upstream, FakeTimeProvider time, CapturingLoggerProvider logs)
    {
        App = app;
        Upstream = upstream;
        Time = time;
        Logs = logs;
        Address = GatewayApp.AddressOf(app);
    }

    public WebApplication App { get; }

    public FakeLlmServer Upstream { get; }

    public FakeTimeProvider Time { get; }

    public CapturingLoggerProvider Logs { get; }

    public Uri Address { get; }

    /// <summary>The base URL an OpenAI client is given.</summary>
    public Uri ApiEndpoint => new(Address, "v1");

    public CircuitBreakerRegistry Registry => App.Services.GetRequiredService<CircuitBreakerRegistry>();

    public static Dictionary<string, string?> DefaultConfiguration(Uri upstream) => new()
    {
        ["Gateway:ClientKeys:0"] = ClientKey,
        ["Gateway:AdminKey"] = AdminKey,
        ["Gateway:Providers:fake:BaseUrl"] = upstream.AbsoluteUri,
        ["Gateway:Providers:fake:ApiKey"] = ProviderKey,
        ["Gateway:Models:gpt-4.1:Provider"] = "fake",
        ["Gateway:Models:gpt-4.1:Fallbacks:0"] = "gpt-4.1-mini",
        ["Gateway:Models:gpt-4.1-mini:Provider"] = "fake",
        ["Gateway:Models:gpt-4o-mini:Provider"] = "fake",
        ["Tripswitch:Defaults:FailureThreshold"] = "2",
        ["Tripswitch:Defaults:RecoveryTimeout"] = "00:00:30",
    };

    public static async Task<GatewayHarness> StartAsync(Action<Dictionary<string, string?>>? configure = null, Uri? upstreamOverride = null)
    {
        FakeLlmServer upstream = await FakeLlmServer.StartAsync(cancellationToken: TestContext.Current.CancellationToken);
        Dictionary<string, string?> configuration = DefaultConfiguration(upstreamOverride ?? upstream.ApiEndpoint);
        configure?.Invoke(configuration);
        var time = new FakeTimeProvider();
        var logs = new CapturingLoggerProvider();
        WebApplication app = await GatewayApp.BuildAsync(["--urls", "http://127.0.0.1:0"], builder =>
        {
            builder.Configuration.AddInMemoryCollection(configuration);
            builder.Logging.ClearProviders().SetMinimumLevel(LogLevel.Trace).AddProvider(logs);
            builder.Services.AddTripswitch(o => o.Defaults.TimeProvider = time);
        });
        await app.StartAsync(TestContext.Current.CancellationToken);
        return new GatewayHarness(app, upstream, time, logs);
    }

    public HttpClient HttpClient(string? key = ClientKey)
    {
        var client = new HttpClient { BaseAddress = Address };
        if (key is not null)
        {
            client.DefaultRequestHeaders.Authorization = new("Bearer", key);
        }

        return client;
    }

    public async ValueTask DisposeAsync()
    {
        await App.StopAsync(CancellationToken.None);
        await App.DisposeAsync();
        await Upstream.DisposeAsync();
    }
}
