using System.Diagnostics.Metrics;
using Microsoft.Extensions.Time.Testing;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using Xunit;

namespace Tripswitch.Tests.Telemetry;

/// <summary>
/// The instruments as the real OpenTelemetry SDK exports them (in-memory exporter). The process-wide meter is shared by
/// tests running in parallel, so each test names its own circuit and looks only at points tagged with that name.
/// </summary>
public class OpenTelemetryTests
{
    private const string NameTag = "tripswitch.circuit.name";

    private static readonly double[] s_documentedBuckets =
        [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

    [Fact]
    public void CallDuration_ExportedBySdk_UsesTheExplicitBucketBoundariesInSeconds()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = Timed(time, nameof(CallDuration_ExportedBySdk_UsesTheExplicitBucketBoundariesInSeconds));
        var exported = new List<MetricSnapshot>();
        using (MeterProvider provider = ExportTo(exported))
        {
            breaker.Execute(() => Advance(time, TimeSpan.FromMilliseconds(300)));
            breaker.Execute(() => Advance(time, TimeSpan.FromMilliseconds(40)));
            provider.ForceFlush();
        }

        MetricSnapshot duration = exported.Last(m => m.Name == "tripswitch.call.duration");
        Assert.Equal("s", duration.Unit);
        MetricPoint point = Assert.Single(PointsOf(duration, breaker.Name));
        Assert.Equal(2, point.GetHistogramCount());
        Assert.Equal(0.34, point.GetHistogramSum(), precision: 6);

        var bounds = new List<double>();
        var counts = new List<long>();
        foreach (HistogramBucket bucket in point.GetHistogramBuckets())
        {
            bounds.Add(bucket.ExplicitBound);
            counts.Add(bucket.BucketCount);
        }

        Assert.Equal([.. s_documentedBuckets, double.PositiveInfinity], bounds);
        Assert.Equal(1, counts[bounds.IndexOf(0.05)]); // 40 ms: (0.025, 0.05]
        Assert.Equal(1, counts[bounds.IndexOf(0.5)]);  // 300 ms: (0.25, 0.5]
    }

    [Fact]
    public void CallDuration_Failures_TaggedWithErrorTypeAndSuccessesNot()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = Timed(time, nameof(CallDuration_Failures_TaggedWithErrorTypeAndSuccessesNot), slowAfter: TimeSpan.FromSeconds(1));
        var exported = new List<MetricSnapshot>();
        using (MeterProvider provider = ExportTo(exported))
        {
            breaker.Execute(() => Advance(time, TimeSpan.FromMilliseconds(10)));
            Assert.Throws<InvalidOperationException>(() => breaker.Execute<int>(() => throw new InvalidOperationException("upstream down")));
            CircuitPermit permit = breaker.AcquirePermit();
            permit.RecordFailure(); // a failure reported without an exception
            breaker.Execute(() => Advance(time, TimeSpan.FromSeconds(2))); // answered, but slow: counts as a failure
            provider.ForceFlush();
        }

        MetricSnapshot duration = exported.Last(m => m.Name == "tripswitch.call.duration");
        var byTags = PointsOf(duration, breaker.Name).ToDictionary(
            p => $"{Tag(p, "tripswitch.call.outcome")}|{Tag(p, "error.type") ?? "(none)"}",
            p => p.GetHistogramCount());

        Assert.Equal(
            new Dictionary<string, long>
            {
                ["success|(none)"] = 1,
                ["failure|System.InvalidOperationException"] = 1,
                ["failure|_OTHER"] = 1,
                ["failure|tripswitch.slow_call"] = 1,
            },
            byTags);
    }

    [Fact]
    public void Instruments_ExportedBySdk_WithDocumentedNamesAndUnits()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = Timed(time, nameof(Instruments_ExportedBySdk_WithDocumentedNamesAndUnits));
        var exported = new List<MetricSnapshot>();
        using (MeterProvider provider = ExportTo(exported))
        {
            breaker.Execute(() => Advance(time, TimeSpan.FromMilliseconds(5)));
            breaker.Isolate();
            provider.ForceFlush();
        }

        Dictionary<string, string> units = exported.GroupBy(m => m.Name).ToDictionary(g => g.Key, g => g.Last().Unit);
        Assert.Equal("{call}", units["tripswitch.calls"]);
        Assert.Equal("{transition}", units["tripswitch.circuit.transitions"]);
        Assert.Equal("{state}", units["tripswitch.circuit.state"]);
        Assert.Equal("s", units["tripswitch.call.duration"]);

        MetricPoint success = PointsOf(exported.Last(m => m.Name == "tripswitch.calls"), breaker.Name)
            .Single(p => Tag(p, "tripswitch.call.outcome") == "success");
        Assert.Equal(1, success.GetSumLong());
        MetricPoint transition = Assert.Single(PointsOf(exported.Last(m => m.Name == "tripswitch.circuit.transitions"), breaker.Name));
        Assert.Equal("isolated", Tag(transition, "tripswitch.circuit.state"));
        Assert.Equal("closed", Tag(transition, "tripswitch.circuit.previous_state"));
    }

    [Fact]
    public void MeterFactory_Set_CircuitReportsToThatFactorysMeterOnly()
    {
        using var factory = new TestMeterFactory();
        var time = new FakeTimeProvider();
        string name = nameof(MeterFactory_Set_CircuitReportsToThatFactorysMeterOnly);
        var breaker = new CircuitBreaker(new CircuitBreakerOptions
        {
            Name = name,
            TimeProvider = time,
            SlowCallThreshold = TimeSpan.FromMinutes(1),
            MeterFactory = factory,
        });
        var scopes = new List<object?>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == "Tripswitch" && instrument.Name == "tripswitch.call.duration")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<double>((instrument, _, tags, _) =>
        {
            foreach (KeyValuePair<string, object?> tag in tags)
            {
                if (tag.Key == NameTag && (string?)tag.Value == name)
                {
                    lock (scopes)
                    {
                        scopes.Add(instrument.Meter.Scope);
                    }
                }
            }
        });
        listener.Start();

        breaker.Execute(() => Advance(time, TimeSpan.FromMilliseconds(5)));

        Assert.Same(factory, Assert.Single(scopes));
        Assert.Contains(factory.Created, m => m.Name == "Tripswitch");
    }

    /// <summary>
    /// The SDK exporting the Tripswitch meter into <paramref name="exported"/>. That meter carries every circuit of every
    /// test running meanwhile, and by default the SDK keeps 2,000 tag combinations per instrument, folding the rest into
    /// one overflow point: a registry test calling thousands of circuits at the same time took this test's points. The
    /// limit is raised far above what the suite produces while one provider lives.
    /// </summary>
    private static MeterProvider ExportTo(List<MetricSnapshot> exported) => Sdk.CreateMeterProviderBuilder()
        .AddMeter("Tripswitch")
        .AddView("tripswitch.*", new MetricStreamConfiguration { CardinalityLimit = 200_000 })
        .AddInMemoryExporter(exported)
        .Build();

    private static CircuitBreaker Timed(FakeTimeProvider time, string name, TimeSpan? slowAfter = null) =>
        new(new CircuitBreakerOptions
        {
            Name = name,
            TimeProvider = time,
            FailureThreshold = 100,

            // A slow-call threshold makes every call timed (otherwise durations are sampled).
            SlowCallThreshold = slowAfter ?? TimeSpan.FromMinutes(1),
        });

    private static int Advance(FakeTimeProvider time, TimeSpan by)
    {
        time.Advance(by);
        return 1;
    }

    private static List<MetricPoint> PointsOf(MetricSnapshot metric, string circuit) =>
        metric.MetricPoints.Where(p => Tag(p, NameTag) == circuit).ToList();

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

    /// <summary>A minimal <see cref="IMeterFactory"/>, as a DI container provides one: meters scoped to it, disposed with it.</summary>
    private sealed class TestMeterFactory : IMeterFactory
    {
        public List<Meter> Created { get; } = [];

        public Meter Create(MeterOptions options)
        {
            var meter = new Meter(new MeterOptions(options.Name) { Version = options.Version, Tags = options.Tags, Scope = this });
            Created.Add(meter);
            return meter;
        }

        public void Dispose() => Created.ForEach(m => m.Dispose());
    }
}
