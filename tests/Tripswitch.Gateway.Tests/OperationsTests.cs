using System.Diagnostics.Metrics;
using System.Net;
using System.Text;
using Tripswitch.Gateway.Tests.Infrastructure;
using Xunit;

namespace Tripswitch.Gateway.Tests;

/// <summary>Metrics on the Tripswitch meter, health endpoints and the offline start.</summary>
public sealed class OperationsTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ForwardedCalls_AppearOnTheTripswitchMeter_ByCircuitAndOutcome()
    {
        // A model no other test uses: the meter is process-wide, and other tests' gateways run in parallel.
        await using GatewayHarness gateway = await GatewayHarness.StartAsync(c => c["Gateway:Models:metered:Provider"] = "fake");
        gateway.Upstream.Model("metered");
        using HttpClient client = gateway.HttpClient();
        HttpResponseMessage response = await client.PostAsync("v1/chat/completions", new StringContent("""{"model":"metered","messages":[]}""", Encoding.UTF8, "application/json"), Token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        long successes = 0;
        using var listener = new MeterListener
        {
            InstrumentPublished = static (instrument, l) =>
            {
                if (instrument.Meter.Name == GatewayApp.MeterNames[0] && instrument.Name == "tripswitch.calls")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            Dictionary<string, object?> t = new(tags.ToArray());
            if (Equals(t.GetValueOrDefault("tripswitch.circuit.name"), "fake/metered") && Equals(t.GetValueOrDefault("tripswitch.call.outcome"), "success"))
            {
                successes += value;
            }
        });
        listener.Start();
        listener.RecordObservableInstruments();

        Assert.Equal(1, successes);
    }

    [Fact]
    public async Task Health_LiveAlways_ReadyFromTheCircuits_WithoutAKey()
    {
        await using GatewayHarness gateway = await GatewayHarness.StartAsync(c => c["Tripswitch:Critical:0"] = "fake/gpt-4.1");
        using HttpClient anonymous = gateway.HttpClient(key: null);

        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("health/ready", Token)).StatusCode);
        gateway.Registry.Get("fake/gpt-4.1").Isolate();
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await anonymous.GetAsync("health/ready", Token)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("health/live", Token)).StatusCode);
    }

    [Fact]
    public async Task NoConfiguration_StartsOnTheOfflineFakeLlm_AndTheBannersCurlLineWorks()
    {
        await using Microsoft.AspNetCore.Builder.WebApplication app = await GatewayApp.BuildAsync(["--urls", "http://127.0.0.1:0"]);
        await app.StartAsync(Token);
        var banner = new StringWriter();
        GatewayApp.PrintBanner(app, banner);
        string curl = banner.ToString().Split('\n').Single(l => l.TrimStart().StartsWith("curl ", StringComparison.Ordinal));
        string body = curl[(curl.IndexOf("-d '", StringComparison.Ordinal) + 4)..curl.LastIndexOf('\'')];
        Uri url = new(curl.Split(' ', StringSplitOptions.RemoveEmptyEntries)[2]);

        using var client = new HttpClient();
        HttpResponseMessage response = await client.PostAsync(url, new StringContent(body, Encoding.UTF8, "application/json"), Token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("Hello from gpt-4.1.", await response.Content.ReadAsStringAsync(Token), StringComparison.Ordinal);
        await app.StopAsync(Token);
    }
}
