using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Xunit;

namespace Tripswitch.Tests.Controller;

/// <summary>
/// A circuit a registry evicts is detached (<c>CircuitStateMachine.Detach</c> in <c>CircuitStateMachine.Control.cs</c>):
/// its timers are disposed and the <c>Tripswitch</c> meter stops reporting it at once, not whenever the collector gets
/// to it (a caller may still hold the breaker). Found by mutation testing (docs/mutation.md): nothing observed either.
/// </summary>
public class CircuitStateMachineDetachTests
{
    private static readonly TimeSpan _recovery = TimeSpan.FromSeconds(10);

    [Fact]
    public void Detach_RegistryEvictsACircuitThatHadTripped_DisposesEveryTimerItCreated()
    {
        var time = new TimerTrackingTimeProvider();
        string victim = TestBreakers.UniqueName();
        var options = new CircuitBreakerRegistryOptions
        {
            Defaults = TestBreakers.Options(time, configure: o => o.Rule = FailureRule.ConsecutiveFailures), // no timer until it trips
            Capacity = 1,
        };
        options.Configure(victim, o =>
        {
            o.Rule = FailureRule.TimeWindow; // a bucket timer from the start
            o.SamplingDuration = TimeSpan.FromSeconds(10);
            o.MinimumThroughput = 1;
            o.FailureRatio = 0.5;
            o.RecoveryTimeout = _recovery;
            o.SuccessThreshold = 1;
        });
        var registry = new CircuitBreakerRegistry(options);
        CircuitBreaker breaker = registry.Get(victim);
        TestBreakers.Trip(breaker, 1); // the attention timer, for the end of the open period
        time.Advance(_recovery);
        breaker.AcquirePermit().RecordSuccess(); // the probe closes it: closed and idle, so it can be evicted
        Assert.Equal(CircuitState.Closed, breaker.State);
        Assert.True(time.Timers.Count >= 2, $"{time.Timers.Count} timers: expected the window's and the attention timer");
        Assert.DoesNotContain(time.Timers, timer => timer.IsDisposed);

        registry.Get(TestBreakers.UniqueName()); // past the capacity of 1: the victim is the least recently used

        Assert.False(registry.TryGet(victim, out _));
        Assert.All(time.Timers, timer => Assert.True(timer.IsDisposed));
    }

    [Fact]
    public void Detach_RegistryEvictsACircuit_TheStateGaugeNoLongerReportsIt()
    {
        var registry = new CircuitBreakerRegistry(new CircuitBreakerRegistryOptions
        {
            Defaults = TestBreakers.Options(TestBreakers.Clock()),
            Capacity = 1,
        });
        string evictedName = TestBreakers.UniqueName();
        string keptName = TestBreakers.UniqueName();
        CircuitBreaker evicted = registry.Get(evictedName);
        var reported = new ConcurrentBag<string>(); // circuit names the state gauge reported
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == "Tripswitch" && instrument.Name == "tripswitch.circuit.state")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<int>((_, _, tags, _) =>
        {
            foreach (KeyValuePair<string, object?> tag in tags)
            {
                if (tag.Key == "tripswitch.circuit.name" && tag.Value is string name)
                {
                    reported.Add(name);
                }
            }
        });
        listener.Start();
        listener.RecordObservableInstruments();
        Assert.Contains(evictedName, reported); // positive control: reported while the registry holds it

        registry.Get(keptName); // past the capacity of 1: the first circuit is evicted
        reported.Clear();
        listener.RecordObservableInstruments();

        Assert.False(registry.TryGet(evictedName, out _));
        Assert.Contains(keptName, reported);
        Assert.DoesNotContain(evictedName, reported);
        Assert.Equal(CircuitState.Closed, evicted.State); // the caller's breaker still works (and is not collected)
    }
}
