using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Metrics;

namespace Tripswitch.Hosting.Tests.Telemetry;

/// <summary>
/// The README's OpenTelemetry setup, with the in-memory exporter in place of OTLP: a real host, the real SDK. Under
/// dependency injection the circuits' <c>Tripswitch</c> meter comes from the container's <see cref="IMeterFactory"/>.
/// </summary>
public class OpenTelemetryTests
{
    [Fact]
    public async Task AddTripswitch_WithOpenTelemetryMetrics_ExportsTheContainersCircuitsFromTheContainersMeter()
    {
        var exported = new List<MetricSnapshot>();
        HostApplicationBuilder builder = TestHost.CreateBuilder();
        builder.Services.AddTripswitch();
        builder.Services.AddOpenTelemetry()
            .WithMetrics(metrics => metrics
                .AddMeter("Tripswitch")
                .AddInMemoryExporter(exported));
        await using TestHost host = await TestHost.StartAsync(builder);
        IMeterFactory factory = host.Services.GetRequiredService<IMeterFactory>();
        var scopes = new HashSet<object?>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, _) =>
            {
                if (instrument.Meter.Name == "Tripswitch" && instrument.Name == "tripswitch.calls")
                {
                    lock (scopes)
                    {
                        scopes.Add(instrument.Meter.Scope);
                    }
                }
            },
        };
        listener.Start();

        host.Registry.Execute("otel/di", () => 1);
        host.Registry.Execute("otel/di", () => 2);
        Assert.True(host.Services.GetRequiredService<MeterProvider>().ForceFlush());

        Assert.Contains(factory, scopes);
        MetricSnapshot calls = exported.Last(m => m.Name == "tripswitch.calls");
        long successes = 0;
        foreach (MetricPoint point in calls.MetricPoints)
        {
            if (Tag(point, "tripswitch.circuit.name") == "otel/di" && Tag(point, "tripswitch.call.outcome") == "success")
            {
                successes += point.GetSumLong();
            }
        }

        Assert.Equal(2, successes);
    }

    [Fact]
    public async Task AddTripswitch_TwoContainers_EachCircuitReportsToItsOwnContainersMeter()
    {
        await using TestHost first = await TestHost.StartAsync(WithTripswitch());
        await using TestHost second = await TestHost.StartAsync(WithTripswitch());
        var seen = new List<(object? Scope, string? Circuit)>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == "Tripswitch" && instrument.Name == "tripswitch.calls")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((instrument, _, tags, _) =>
        {
            foreach (KeyValuePair<string, object?> tag in tags)
            {
                if (tag.Key == "tripswitch.circuit.name" && tag.Value is string circuit && circuit.StartsWith("container/", StringComparison.Ordinal))
                {
                    seen.Add((instrument.Meter.Scope, circuit));
                }
            }
        });
        listener.Start();
        first.Registry.Execute("container/first", () => 1);
        second.Registry.Execute("container/second", () => 1);

        listener.RecordObservableInstruments();

        IMeterFactory firstFactory = first.Services.GetRequiredService<IMeterFactory>();
        IMeterFactory secondFactory = second.Services.GetRequiredService<IMeterFactory>();
        Assert.NotSame(firstFactory, secondFactory);
        Assert.All(seen.Where(s => s.Circuit == "container/first"), s => Assert.Same(firstFactory, s.Scope));
        Assert.All(seen.Where(s => s.Circuit == "container/second"), s => Assert.Same(secondFactory, s.Scope));
        Assert.Contains(seen, s => s.Circuit == "container/first");
        Assert.Contains(seen, s => s.Circuit == "container/second");

        static HostApplicationBuilder WithTripswitch()
        {
            HostApplicationBuilder builder = TestHost.CreateBuilder();
            builder.Services.AddTripswitch();
            return builder;
        }
    }

    private static string? Tag(MetricPoint point, string key)
    {
        foreach (KeyValuePair<string, object?> tag in point.Tags)
        {
            if (tag.Key == key)
            {
                return tag.Value as string;
            }
        }

        return null;
    }
}
