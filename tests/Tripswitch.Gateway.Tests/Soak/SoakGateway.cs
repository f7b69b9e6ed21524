using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Tripswitch.Gateway.Tests.Soak;

/// <summary>
/// One gateway in this process on 127.0.0.1 (ephemeral port), on real time (unlike <c>GatewayHarness</c>'s fake time: a
/// soak runs on the clock), sharing its circuits through Redis under a key prefix. Models: <c>gpt-4.1</c> falling back
/// to <c>gpt-4.1-mini</c>, and <c>gpt-4o-mini</c> alone. Circuits open after 5 consecutive failures for 2 s, probe one
/// at a time, and a probe may run 20 s (four times the upstream timeout): the library takes back a probe slot or fleet
/// lease nobody released after that, and the soak's recovery check (45 s) holds it to that promise. The registry keeps at most
/// <see cref="Capacity"/> circuits (see the soak's eviction check). Warnings and errors are kept (<see cref="Log"/>).
/// </summary>
internal sealed class SoakGateway : IAsyncDisposable
{
    public const string ClientKey = "soak-client-key-0123456789";
    public const int Capacity = 16;

    private SoakGateway(WebApplication app, SoakLog log)
    {
        App = app;
        Log = log;
        Address = GatewayApp.AddressOf(app);
    }

    public WebApplication App { get; }

    public Uri Address { get; }

    public SoakLog Log { get; }

    public CircuitBreakerRegistry Registry => App.Services.GetRequiredService<CircuitBreakerRegistry>();

    /// <summary>The circuit names the gateway creates at start (one per model, all at the provider <c>fake</c>).</summary>
    public static IEnumerable<string> Circuits => SoakTraffic.Models.Select(static model => $"fake/{model}");

    public static async Task<SoakGateway> StartAsync(Uri upstreamApi, string redis, string prefix, CancellationToken cancellationToken)
    {
        var configuration = new Dictionary<string, string?>
        {
            ["Gateway:ClientKeys:0"] = ClientKey,
            ["Gateway:Providers:fake:BaseUrl"] = upstreamApi.AbsoluteUri,
            ["Gateway:Providers:fake:ApiKey"] = "sk-soak-provider-key-0123456789",
            ["Gateway:Providers:fake:Timeout"] = "00:00:05",
            ["Gateway:Providers:fake:ConnectTimeout"] = "00:00:02",
            ["Gateway:Models:gpt-4.1:Provider"] = "fake",
            ["Gateway:Models:gpt-4.1:Fallbacks:0"] = "gpt-4.1-mini",
            ["Gateway:Models:gpt-4.1-mini:Provider"] = "fake",
            ["Gateway:Models:gpt-4o-mini:Provider"] = "fake",
            ["Gateway:Redis"] = redis,
            ["Gateway:RedisKeyPrefix"] = prefix,
            ["Tripswitch:Capacity"] = Capacity.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Tripswitch:Defaults:FailureThreshold"] = "5",
            ["Tripswitch:Defaults:RecoveryTimeout"] = "00:00:02",
            ["Tripswitch:Defaults:HalfOpenMaxCalls"] = "1",
            ["Tripswitch:Defaults:HalfOpenProbeTimeout"] = "00:00:20",
        };
        var log = new SoakLog();
        WebApplication app = await GatewayApp.BuildAsync(["--urls", "http://127.0.0.1:0"], builder =>
        {
            builder.Configuration.AddInMemoryCollection(configuration);
            builder.Logging.ClearProviders().SetMinimumLevel(LogLevel.Warning).AddProvider(log);
        });
        await app.StartAsync(cancellationToken);
        return new SoakGateway(app, log);
    }

    public async ValueTask DisposeAsync()
    {
        await App.StopAsync(CancellationToken.None);
        await App.DisposeAsync();
    }
}
