using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Tripswitch.Controller;

namespace Tripswitch;

/// <summary>
/// The instruments of one <c>Tripswitch</c> <see cref="Meter"/> and the circuits that report to it: the process-wide
/// meter (<see cref="Default"/>) for circuits created without a meter factory, or one meter per
/// <see cref="IMeterFactory"/> (a dependency-injection container), which disposes it with the container.
/// </summary>
/// <remarks>
/// Call counts and states are observed from the circuits' own exact counters when a listener collects, so the hot path
/// pays nothing for them. Circuits are held weakly (a weak <see cref="GCHandle"/> each: no object per circuit), so a
/// circuit nobody references any more is collected and drops out at the next collection.
/// </remarks>
internal sealed class TripswitchInstruments
{
    /// <summary>
    /// Upper bounds of the <c>tripswitch.call.duration</c> buckets, in seconds: 1 ms to 2 minutes, roughly ×2.5 apart.
    /// An in-process dependency answers in microseconds to milliseconds, an HTTP API in tens to hundreds of
    /// milliseconds, an LLM completion or stream in seconds to minutes; the SDK's default boundaries (0, 5, 10, 25 …
    /// 10000, meant for milliseconds) would put every call under 5 s in one bucket.
    /// </summary>
    internal static readonly double[] DurationBuckets =
        [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

    private static readonly string? s_version = typeof(TripswitchInstruments).Assembly.GetName().Version?.ToString();
    private static readonly ConditionalWeakTable<IMeterFactory, TripswitchInstruments> s_byFactory = [];

    private readonly Lock _lock = new();
    private readonly List<GCHandle> _circuits = [];

    private TripswitchInstruments(Meter meter)
    {
        Meter = meter;
        Transitions = meter.CreateCounter<long>(
            "tripswitch.circuit.transitions",
            unit: "{transition}",
            description: "State changes of circuits. In MetricsOnly mode these are the transitions that would have happened.");
        CallDuration = meter.CreateHistogram(
            "tripswitch.call.duration",
            unit: "s",
            description: "Duration of calls through circuits (sampled: about one call in 16 unless a slow-call threshold is set, then every call).",
            tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });
        meter.CreateObservableCounter(
            "tripswitch.calls",
            ObserveCalls,
            unit: "{call}",
            description: "Calls through circuits by outcome: success, failure, ignored, rejected, and shadow_rejected (would have been rejected in MetricsOnly mode).");
        meter.CreateObservableGauge(
            "tripswitch.circuit.state",
            ObserveStates,
            unit: "{state}",
            description: "1 for the state each circuit is in, 0 for the others.");
    }

    /// <summary>The process-wide <c>Tripswitch</c> meter's instruments, for circuits created without a meter factory.</summary>
    public static TripswitchInstruments Default { get; } = new(new Meter(TripswitchTelemetry.MeterName, s_version));

    public Meter Meter { get; }

    public Counter<long> Transitions { get; }

    public Histogram<double> CallDuration { get; }

    /// <summary>The instruments of <paramref name="factory"/>'s <c>Tripswitch</c> meter, or <see cref="Default"/> when it is null.</summary>
    public static TripswitchInstruments For(IMeterFactory? factory) =>
        factory is null
            ? Default
            : s_byFactory.GetValue(factory, static f => new TripswitchInstruments(f.Create(new MeterOptions(TripswitchTelemetry.MeterName) { Version = s_version })));

    public void Register(CircuitStateMachine machine)
    {
        lock (_lock)
        {
            _circuits.Add(GCHandle.Alloc(machine, GCHandleType.Weak));
        }
    }

    public void Unregister(CircuitStateMachine machine)
    {
        lock (_lock)
        {
            _circuits.RemoveAll(handle => Sweep(handle, out CircuitStateMachine? m) || ReferenceEquals(m, machine) && Free(handle));
        }
    }

    private List<CircuitStateMachine> LiveCircuits()
    {
        var live = new List<CircuitStateMachine>();
        lock (_lock)
        {
            _circuits.RemoveAll(handle =>
            {
                if (Sweep(handle, out CircuitStateMachine? machine))
                {
                    return true;
                }

                live.Add(machine!);
                return false;
            });
        }

        return live;
    }

    /// <summary>Frees the handle of a collected circuit and returns true; otherwise returns the circuit.</summary>
    private static bool Sweep(GCHandle handle, out CircuitStateMachine? machine)
    {
        machine = handle.Target as CircuitStateMachine;
        return machine is null && Free(handle);
    }

    private static bool Free(GCHandle handle)
    {
        handle.Free();
        return true;
    }

    private IEnumerable<Measurement<long>> ObserveCalls()
    {
        foreach (CircuitStateMachine machine in LiveCircuits())
        {
            if (machine.Options.Mode == CircuitBreakerMode.Disabled)
            {
                continue;
            }

            CounterSnapshot counts = machine.Counts;
            var name = new KeyValuePair<string, object?>(TripswitchTelemetry.CircuitNameTag, machine.Name);
            yield return new(counts.Successful, name, new(TripswitchTelemetry.OutcomeTag, TripswitchTelemetry.OutcomeSuccess));
            yield return new(counts.Failed, name, new(TripswitchTelemetry.OutcomeTag, TripswitchTelemetry.OutcomeFailure));
            yield return new(counts.Ignored, name, new(TripswitchTelemetry.OutcomeTag, TripswitchTelemetry.OutcomeIgnored));
            yield return new(counts.Rejected, name, new(TripswitchTelemetry.OutcomeTag, TripswitchTelemetry.OutcomeRejected));
            if (machine.Options.Mode == CircuitBreakerMode.MetricsOnly)
            {
                yield return new(counts.ShadowRejected, name, new(TripswitchTelemetry.OutcomeTag, TripswitchTelemetry.OutcomeShadowRejected));
            }
        }
    }

    private IEnumerable<Measurement<int>> ObserveStates()
    {
        foreach (CircuitStateMachine machine in LiveCircuits())
        {
            CircuitState current = machine.State;
            var name = new KeyValuePair<string, object?>(TripswitchTelemetry.CircuitNameTag, machine.Name);
            foreach (CircuitState state in Enum.GetValues<CircuitState>())
            {
                yield return new(state == current ? 1 : 0, name, new(TripswitchTelemetry.StateTag, TripswitchTelemetry.StateName(state)));
            }
        }
    }
}
