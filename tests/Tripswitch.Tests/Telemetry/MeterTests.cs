using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Time.Testing;
using Tripswitch.Tests.Health;
using Xunit;

namespace Tripswitch.Tests.Telemetry;

/// <summary>
/// The "Tripswitch" Meter, read with real listeners. The Meter is process-wide and tests run in parallel, so every
/// test uses its own circuit name and looks only at measurements tagged with it.
/// </summary>
public class MeterTests
{
    private const string MeterName = "Tripswitch";
    private const string NameTag = "tripswitch.circuit.name";
    private const string OutcomeTag = "tripswitch.call.outcome";

    [Fact]
    public void Meter_Instruments_PublishedWithDocumentedNamesTypesAndUnits()
    {
        CircuitBreaker breaker = TestBreakers.CreateUnique(new FakeTimeProvider()); // the telemetry exists once a breaker does
        var found = new ConcurrentDictionary<string, Instrument>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, _) =>
            {
                if (instrument.Meter.Name == MeterName)
                {
                    found[instrument.Name] = instrument;
                }
            },
        };

        listener.Start();

        Assert.IsType<ObservableCounter<long>>(found["tripswitch.calls"]);
        Assert.IsType<Counter<long>>(found["tripswitch.circuit.transitions"]);
        Assert.IsType<ObservableGauge<int>>(found["tripswitch.circuit.state"]);
        Instrument duration = Assert.IsType<Histogram<double>>(found["tripswitch.call.duration"]);
        Assert.Equal("s", duration.Unit);
        Assert.Equal(CircuitState.Closed, breaker.State);
    }

    [Fact]
    public void CallsCounter_EveryOutcome_ObservedFromTheBreakersExactCounters()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = TestBreakers.CreateUnique(time, o =>
        {
            o.FailureThreshold = 2;
            o.ShouldHandle = ex => ex is not ArgumentException;
        });
        using var collector = new MetricCollector<long>(null, MeterName, "tripswitch.calls");
        TestBreakers.Succeed(breaker, 3);
        Assert.Throws<ArgumentException>(() => breaker.Execute(() => throw new ArgumentException("ignored")));
        TestBreakers.ExecuteFailing(breaker);
        TestBreakers.ExecuteFailing(breaker);
        for (int i = 0; i < 4; i++)
        {
            Assert.Throws<CircuitOpenException>(() => breaker.Execute(() => 0));
        }

        collector.RecordObservableInstruments();

        Dictionary<string, long> calls = LatestByOutcome(collector, breaker.Name);
        Assert.Equal(3, calls["success"]);
        Assert.Equal(2, calls["failure"]);
        Assert.Equal(1, calls["ignored"]);
        Assert.Equal(4, calls["rejected"]);
        Assert.False(calls.ContainsKey("shadow_rejected")); // only in MetricsOnly mode
        CircuitSummary summary = breaker.GetSummary();
        Assert.Equal(summary.TotalCalls, calls.Values.Sum());
    }

    [Fact]
    public async Task CallsCounter_AsyncCallsFromManyThreads_CountsExactly()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = TestBreakers.CreateUnique(time, o => o.FailureThreshold = 1_000_000);
        using var collector = new MetricCollector<long>(null, MeterName, "tripswitch.calls");

        await Parallel.ForAsync(0, 2000, TestContext.Current.CancellationToken, async (i, ct) =>
        {
            if (i % 4 == 0)
            {
                await Assert.ThrowsAsync<TestFailureException>(async () => await breaker.ExecuteAsync(
                    async c =>
                    {
                        await Task.Yield();
                        throw new TestFailureException();
                    },
                    ct));
            }
            else
            {
                await breaker.ExecuteAsync(async c => await Task.Yield(), ct);
            }
        });
        collector.RecordObservableInstruments();

        Dictionary<string, long> calls = LatestByOutcome(collector, breaker.Name);
        Assert.Equal(1500, calls["success"]);
        Assert.Equal(500, calls["failure"]);
        Assert.Equal(0, calls["rejected"]);
    }

    [Fact]
    public void CallsCounter_MetricsOnlyMode_ReportsShadowRejected()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = TestBreakers.CreateUnique(time, o =>
        {
            o.Mode = CircuitBreakerMode.MetricsOnly;
            o.FailureThreshold = 1;
        });
        using var collector = new MetricCollector<long>(null, MeterName, "tripswitch.calls");
        TestBreakers.ExecuteFailing(breaker);
        breaker.Execute(() => { });
        breaker.Execute(() => { });

        collector.RecordObservableInstruments();

        Dictionary<string, long> calls = LatestByOutcome(collector, breaker.Name);
        Assert.Equal(2, calls["shadow_rejected"]);
        Assert.Equal(0, calls["rejected"]);
        Assert.Equal(2, calls["success"]);
        Assert.Equal(1, calls["failure"]);
    }

    [Fact]
    public void CallsCounter_DisabledMode_ReportsNothing()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = TestBreakers.CreateUnique(time, o => o.Mode = CircuitBreakerMode.Disabled);
        using var collector = new MetricCollector<long>(null, MeterName, "tripswitch.calls");
        TestBreakers.Succeed(breaker, 2);
        TestBreakers.ExecuteFailing(breaker);

        collector.RecordObservableInstruments();

        Assert.Empty(LatestByOutcome(collector, breaker.Name));
        Assert.Equal(CircuitState.Closed, breaker.State);
    }

    [Fact]
    public void TransitionsCounter_TripAndRecovery_RecordsEachTransitionWithTags()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = TestBreakers.CreateUnique(time, o =>
        {
            o.FailureThreshold = 1;
            o.SuccessThreshold = 1;
            o.RecoveryTimeout = TimeSpan.FromSeconds(5);
        });
        using var collector = new MetricCollector<long>(null, MeterName, "tripswitch.circuit.transitions");

        TestBreakers.Fail(breaker);
        time.Advance(TimeSpan.FromSeconds(5));
        TestBreakers.Succeed(breaker);
        breaker.Isolate();

        CollectedMeasurement<long>[] mine = Mine(collector.GetMeasurementSnapshot(), breaker.Name);
        Assert.Equal(
            [("closed", "open"), ("open", "half_open"), ("half_open", "closed"), ("closed", "isolated")],
            mine.Select(m => ((string)m.Tags["tripswitch.circuit.previous_state"]!, (string)m.Tags["tripswitch.circuit.state"]!)));
        Assert.All(mine, m => Assert.Equal(1, m.Value));
        Assert.All(mine, m => Assert.Equal("enabled", m.Tags["tripswitch.circuit.mode"]));
    }

    [Fact]
    public void TransitionsCounter_MetricsOnlyMode_TaggedWithTheMode()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = TestBreakers.CreateUnique(time, o =>
        {
            o.Mode = CircuitBreakerMode.MetricsOnly;
            o.FailureThreshold = 1;
        });
        using var collector = new MetricCollector<long>(null, MeterName, "tripswitch.circuit.transitions");

        TestBreakers.ExecuteFailing(breaker);

        CollectedMeasurement<long> transition = Assert.Single(Mine(collector.GetMeasurementSnapshot(), breaker.Name));
        Assert.Equal("metrics_only", transition.Tags["tripswitch.circuit.mode"]);
        Assert.Equal("closed", transition.Tags["tripswitch.circuit.previous_state"]);
        Assert.Equal("open", transition.Tags["tripswitch.circuit.state"]);
    }

    [Fact]
    public void TransitionsCounter_ProbeTimeout_RecordsHalfOpenToOpen()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = TestBreakers.CreateUnique(time, o =>
        {
            o.FailureThreshold = 1;
            o.RecoveryTimeout = TimeSpan.FromSeconds(5);
            o.HalfOpenProbeTimeout = TimeSpan.FromSeconds(10);
        });
        TestBreakers.Fail(breaker);
        time.Advance(TimeSpan.FromSeconds(5));
        _ = breaker.AcquirePermit();
        using var collector = new MetricCollector<long>(null, MeterName, "tripswitch.circuit.transitions");

        time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(CircuitState.Open, breaker.State);

        CollectedMeasurement<long> transition = Assert.Single(Mine(collector.GetMeasurementSnapshot(), breaker.Name));
        Assert.Equal("half_open", transition.Tags["tripswitch.circuit.previous_state"]);
        Assert.Equal("open", transition.Tags["tripswitch.circuit.state"]);
    }

    [Fact]
    public void StateGauge_EachState_OneForTheCurrentStateZeroForOthers()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = TestBreakers.CreateUnique(time, o =>
        {
            o.FailureThreshold = 1;
            o.RecoveryTimeout = TimeSpan.FromSeconds(5);
        });
        using var collector = new MetricCollector<int>(null, MeterName, "tripswitch.circuit.state");

        Assert.Equal(Gauge("closed"), ReadGauge(collector, breaker.Name));
        TestBreakers.Fail(breaker);
        Assert.Equal(Gauge("open"), ReadGauge(collector, breaker.Name));
        time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(Gauge("half_open"), ReadGauge(collector, breaker.Name)); // observing performs the due transition
        breaker.Isolate();
        Assert.Equal(Gauge("isolated"), ReadGauge(collector, breaker.Name));
        breaker.Reset();
        Assert.Equal(Gauge("closed"), ReadGauge(collector, breaker.Name));

        static Dictionary<string, int> Gauge(string current)
            => new[] { "closed", "open", "half_open", "isolated" }.ToDictionary(s => s, s => s == current ? 1 : 0);
    }

    [Fact]
    public void DurationHistogram_WithSlowCallThreshold_RecordsEveryCallInSeconds()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = TestBreakers.CreateUnique(time, o => o.SlowCallThreshold = TimeSpan.FromSeconds(10));
        using var collector = new MetricCollector<double>(null, MeterName, "tripswitch.call.duration");

        breaker.Execute(() => time.Advance(TimeSpan.FromSeconds(0.25)));
        Assert.Throws<TestFailureException>(() => breaker.Execute(() =>
        {
            time.Advance(TimeSpan.FromSeconds(0.5));
            throw new TestFailureException();
        }));
        breaker.Execute(() => time.Advance(TimeSpan.FromSeconds(2)));

        CollectedMeasurement<double>[] mine = Mine(collector.GetMeasurementSnapshot(), breaker.Name);
        Assert.Equal([0.25, 0.5, 2.0], mine.Select(m => m.Value));
        Assert.Equal(["success", "failure", "success"], mine.Select(m => (string)m.Tags[OutcomeTag]!));
    }

    [Fact]
    public async Task DurationHistogram_AsyncCallsWithSlowCallThreshold_RecordsEveryCall()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = TestBreakers.CreateUnique(time, o => o.SlowCallThreshold = TimeSpan.FromSeconds(10));
        using var collector = new MetricCollector<double>(null, MeterName, "tripswitch.call.duration");

        for (int i = 1; i <= 3; i++)
        {
            int seconds = i;
            await breaker.ExecuteAsync(
                async ct =>
                {
                    await Task.Yield();
                    time.Advance(TimeSpan.FromSeconds(seconds));
                },
                TestContext.Current.CancellationToken);
        }

        Assert.Equal([1.0, 2.0, 3.0], Mine(collector.GetMeasurementSnapshot(), breaker.Name).Select(m => m.Value));
    }

    [Fact]
    public void DurationHistogram_WithoutSlowCallThreshold_SamplesOneCallInSixteenPerThread()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = TestBreakers.CreateUnique(time);
        using var collector = new MetricCollector<double>(null, MeterName, "tripswitch.call.duration");

        for (int i = 0; i < 32; i++)
        {
            breaker.Execute(() => time.Advance(TimeSpan.FromSeconds(1)));
        }

        CollectedMeasurement<double>[] mine = Mine(collector.GetMeasurementSnapshot(), breaker.Name);
        Assert.Equal(2, mine.Length);
        Assert.All(mine, m => Assert.Equal(1.0, m.Value));

        breaker.Execute(() => time.Advance(TimeSpan.FromSeconds(1)));
        Assert.Equal(3, Mine(collector.GetMeasurementSnapshot(), breaker.Name).Length);
        Assert.Equal(33, breaker.GetSummary().Successful);
    }

    [Fact]
    public void DurationHistogram_RejectedCalls_AreNotTimed()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = TestBreakers.CreateUnique(time, o =>
        {
            o.FailureThreshold = 1;
            o.SlowCallThreshold = TimeSpan.FromSeconds(10);
        });
        using var collector = new MetricCollector<double>(null, MeterName, "tripswitch.call.duration");
        TestBreakers.ExecuteFailing(breaker);

        for (int i = 0; i < 3; i++)
        {
            Assert.Throws<CircuitOpenException>(() => breaker.Execute(() => { }));
        }

        Assert.Single(Mine(collector.GetMeasurementSnapshot(), breaker.Name));
    }

    private static CollectedMeasurement<T>[] Mine<T>(IEnumerable<CollectedMeasurement<T>> measurements, string circuit)
        where T : struct
        => [.. measurements.Where(m => m.Tags.TryGetValue(NameTag, out object? name) && circuit.Equals(name))];

    private static Dictionary<string, long> LatestByOutcome(MetricCollector<long> collector, string circuit)
    {
        var latest = new Dictionary<string, long>();
        foreach (CollectedMeasurement<long> m in Mine(collector.GetMeasurementSnapshot(), circuit))
        {
            latest[(string)m.Tags[OutcomeTag]!] = m.Value;
        }

        return latest;
    }

    private static Dictionary<string, int> ReadGauge(MetricCollector<int> collector, string circuit)
    {
        collector.Clear();
        collector.RecordObservableInstruments();
        var states = new Dictionary<string, int>();
        foreach (CollectedMeasurement<int> m in Mine(collector.GetMeasurementSnapshot(), circuit))
        {
            states.Add((string)m.Tags["tripswitch.circuit.state"]!, m.Value);
        }

        return states;
    }
}
