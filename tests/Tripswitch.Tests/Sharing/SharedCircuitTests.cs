using Microsoft.Extensions.Time.Testing;
using Tripswitch.Sharing;
using Tripswitch.Telemetry;
using Xunit;

namespace Tripswitch.Tests.Sharing;

public class SharedCircuitTests
{
    private static (CircuitBreaker Breaker, RecordingCoordinator Coordinator) Attach(FakeTimeProvider time, Action<CircuitBreakerOptions>? configure = null)
    {
        CircuitBreaker breaker = TestBreakers.Create(time, configure);
        RecordingCoordinator? coordinator = null;
        breaker.SetCoordinator(shared => coordinator = new RecordingCoordinator(shared));
        return (breaker, coordinator!);
    }

    [Fact]
    public void Options_IsACopy_ChangingItDoesNotReachTheCircuit()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = TestBreakers.Create(time, o => o.FailureThreshold = 2);

        CircuitBreakerOptions options = breaker.Options;
        options.FailureThreshold = 50;

        Assert.Equal("test", options.Name);
        Assert.Same(time, options.TimeProvider);
        Assert.Equal(2, breaker.Options.FailureThreshold);
        Assert.NotSame(breaker.Options, breaker.Options);
        TestBreakers.Trip(breaker, 2);
    }

    [Fact]
    public void Options_ReadAgain_IsTheSameCopyUntilARegistryReconfigure()
    {
        FakeTimeProvider time = TestBreakers.Clock();
        CircuitBreakerRegistry registry = TestBreakers.Registry(time, o => o.FailureThreshold = 3);
        RecordingCoordinator? coordinator = null;
        registry.SetCoordinatorFactory(shared => coordinator = new RecordingCoordinator(shared));
        CircuitBreaker breaker = registry.Get("a");
        SharedCircuit circuit = coordinator!.Circuit;

        CircuitBreakerOptions first = circuit.Options;
        Assert.Same(first, circuit.Options); // no copy per read: a coordinator reads them for every report
        Assert.Equal(("a", 3), (first.Name, first.FailureThreshold));

        registry.Reconfigure(new CircuitBreakerRegistryOptions { Defaults = TestBreakers.Options(time, configure: o => o.FailureThreshold = 1) });

        CircuitBreakerOptions second = circuit.Options;
        Assert.NotSame(first, second);
        Assert.Equal(("a", 1), (second.Name, second.FailureThreshold));
        Assert.Same(second, circuit.Options);
        Assert.Equal(3, first.FailureThreshold); // the old copy is not changed under its reader
        second.FailureThreshold = 50;
        TestBreakers.Trip(breaker, 1); // a change to the copy never reaches the circuit
    }

    [Fact]
    public void SetCoordinator_FactoryGetsTheCircuitsNameOptionsAndState()
    {
        var time = new FakeTimeProvider();
        (CircuitBreaker breaker, RecordingCoordinator coordinator) = Attach(time, o => o.RecoveryTimeout = TimeSpan.FromSeconds(7));

        Assert.Same(breaker, coordinator.Circuit.Breaker);
        Assert.Equal("test", coordinator.Circuit.Name);
        Assert.Equal(TimeSpan.FromSeconds(7), coordinator.Circuit.Options.RecoveryTimeout);
        Assert.Equal(CircuitState.Closed, coordinator.Circuit.State);
        Assert.Equal(TimeSpan.FromMinutes(10), coordinator.Circuit.MaxOpenPeriod); // the documented default MaxRecoveryTimeout (7 s is below it)
    }

    [Fact]
    public void SetCoordinator_Replaced_DisposesTheOldOne()
    {
        var time = new FakeTimeProvider();
        (CircuitBreaker breaker, RecordingCoordinator first) = Attach(time, o => o.FailureThreshold = 1);
        RecordingCoordinator? second = null;

        breaker.SetCoordinator(shared => second = new RecordingCoordinator(shared));
        TestBreakers.Fail(breaker);

        Assert.True(first.Disposed);
        Assert.Empty(first.Trips);
        Assert.Single(second!.Trips);

        breaker.SetCoordinator(null);
        Assert.True(second.Disposed);
    }

    [Fact]
    public void OnLocalTrip_CarriesThePeriodTheGeneratorComputedAndTheVersion()
    {
        var time = new FakeTimeProvider();
        (CircuitBreaker breaker, RecordingCoordinator coordinator) = Attach(time, o =>
        {
            o.FailureThreshold = 1;
            o.BreakDurationGenerator = _ => TimeSpan.FromSeconds(4);
        });

        TestBreakers.Fail(breaker);

        (TimeSpan openFor, TimeSpan? hint, long version) = Assert.Single(coordinator.Trips);
        Assert.Equal(TimeSpan.FromSeconds(4), openFor);
        Assert.Null(hint);
        Assert.Equal(coordinator.Circuit.Version, version);
    }

    [Fact]
    public void OnLocalTrip_HintLongerThanThePolicy_IsTheOpenPeriod()
    {
        var time = new FakeTimeProvider();
        (CircuitBreaker breaker, RecordingCoordinator coordinator) = Attach(time, o =>
        {
            o.FailureThreshold = 1;
            o.RecoveryTimeout = TimeSpan.FromSeconds(1);
        });

        breaker.AcquirePermit().RecordFailure(new TestFailureException(), retryAfter: TimeSpan.FromSeconds(5));

        (TimeSpan openFor, TimeSpan? hint, _) = Assert.Single(coordinator.Trips);
        Assert.Equal(TimeSpan.FromSeconds(5), openFor);
        Assert.Equal(TimeSpan.FromSeconds(5), hint);
    }

    [Fact]
    public void OnRetryAfterHint_FailureThatDoesNotTrip_ReportsTheCappedHint()
    {
        var time = new FakeTimeProvider();
        (CircuitBreaker breaker, RecordingCoordinator coordinator) = Attach(time, o =>
        {
            o.FailureThreshold = 3;
            o.MaxRecoveryTimeout = TimeSpan.FromSeconds(90);
        });

        breaker.AcquirePermit().RecordFailure(new TestFailureException(), retryAfter: TimeSpan.FromMinutes(10));

        Assert.Equal(TimeSpan.FromSeconds(90), Assert.Single(coordinator.Hints));
        Assert.Empty(coordinator.Trips);
    }

    [Fact]
    public void OnProbeCompleted_FailedProbe_CarriesTheBackedOffReopenPeriod()
    {
        var time = new FakeTimeProvider();
        (CircuitBreaker breaker, RecordingCoordinator coordinator) = Attach(time, o =>
        {
            o.FailureThreshold = 1;
            o.RecoveryTimeout = TimeSpan.FromSeconds(2);
            o.RecoveryBackoffMultiplier = 3;
        });
        TestBreakers.Fail(breaker);
        time.Advance(TimeSpan.FromSeconds(2));

        CircuitPermit probe = breaker.AcquirePermit();
        Assert.True(probe.IsProbe);
        probe.RecordFailure(new TestFailureException());

        (long lease, ProbeOutcome outcome, TimeSpan reopenFor) = Assert.Single(coordinator.Probes);
        Assert.Equal(1, lease);
        Assert.Equal(ProbeOutcome.Failed, outcome);
        Assert.Equal(TimeSpan.FromSeconds(6), reopenFor);
        Assert.Equal(CircuitState.Open, breaker.State);
    }

    [Fact]
    public void OnProbeCompleted_SucceededAndIgnoredProbes_ReportTheirOutcome()
    {
        var time = new FakeTimeProvider();
        (CircuitBreaker breaker, RecordingCoordinator coordinator) = Attach(time, o =>
        {
            o.FailureThreshold = 1;
            o.SuccessThreshold = 2;
            o.HalfOpenMaxCalls = 2;
            o.RecoveryTimeout = TimeSpan.FromSeconds(1);
        });
        TestBreakers.Fail(breaker);
        time.Advance(TimeSpan.FromSeconds(1));

        CircuitPermit first = breaker.AcquirePermit();
        CircuitPermit second = breaker.AcquirePermit();
        first.RecordIgnored();
        second.RecordSuccess();

        Assert.Equal([(1L, ProbeOutcome.Released, TimeSpan.Zero), (2L, ProbeOutcome.Succeeded, TimeSpan.Zero)], coordinator.Probes.ToArray());
    }

    [Fact]
    public void TryTakeProbeLease_Refused_RejectsTheHalfOpenCaller()
    {
        var time = new FakeTimeProvider();
        (CircuitBreaker breaker, RecordingCoordinator coordinator) = Attach(time, o =>
        {
            o.FailureThreshold = 1;
            o.RecoveryTimeout = TimeSpan.FromSeconds(1);
        });
        TestBreakers.Fail(breaker);
        time.Advance(TimeSpan.FromSeconds(1));
        coordinator.GrantLeases = false;

        Assert.False(breaker.TryAcquirePermit(out _, out CircuitRejection rejection));
        Assert.Equal(CircuitState.HalfOpen, rejection.State);
    }

    [Fact]
    public void OnManualChange_IsolateAndReset_CarryStateAndVersion()
    {
        var time = new FakeTimeProvider();
        (CircuitBreaker breaker, RecordingCoordinator coordinator) = Attach(time);

        breaker.Isolate();
        long afterIsolate = coordinator.Circuit.Version;
        breaker.Reset();

        Assert.Equal([(CircuitState.Isolated, afterIsolate), (CircuitState.Closed, coordinator.Circuit.Version)], coordinator.ManualChanges.ToArray());
        Assert.True(coordinator.Circuit.Version > afterIsolate);
    }

    [Fact]
    public void ComputeOpenPeriod_AppliesBackoffGeneratorHintAndCap()
    {
        var time = new FakeTimeProvider();
        (_, RecordingCoordinator plain) = Attach(time, o =>
        {
            o.RecoveryTimeout = TimeSpan.FromSeconds(2);
            o.RecoveryBackoffMultiplier = 2;
            o.MaxRecoveryTimeout = TimeSpan.FromSeconds(10);
        });
        (_, RecordingCoordinator generated) = Attach(time, o => o.BreakDurationGenerator = args => TimeSpan.FromSeconds(4 * args.OpenAttempt));

        Assert.Equal(TimeSpan.FromSeconds(2), plain.Circuit.ComputeOpenPeriod());
        Assert.Equal(TimeSpan.FromSeconds(8), plain.Circuit.ComputeOpenPeriod(openAttempt: 3));
        Assert.Equal(TimeSpan.FromSeconds(10), plain.Circuit.ComputeOpenPeriod(openAttempt: 5));
        Assert.Equal(TimeSpan.FromSeconds(5), plain.Circuit.ComputeOpenPeriod(retryAfter: TimeSpan.FromSeconds(5)));
        Assert.Equal(TimeSpan.FromSeconds(10), plain.Circuit.ComputeOpenPeriod(retryAfter: TimeSpan.FromMinutes(5)));
        Assert.Equal(TimeSpan.FromSeconds(8), generated.Circuit.ComputeOpenPeriod(openAttempt: 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => plain.Circuit.ComputeOpenPeriod(openAttempt: 0));
    }

    [Fact]
    public void ReadCounts_ReportsOutcomesAndTheConsecutiveCount()
    {
        var time = new FakeTimeProvider();
        (CircuitBreaker breaker, RecordingCoordinator coordinator) = Attach(time, o => o.FailureThreshold = 5);

        TestBreakers.Succeed(breaker, 3);
        TestBreakers.Fail(breaker, 2);

        Assert.Equal(new SharedCircuitCounts(3, 2, 2, 0), coordinator.Circuit.ReadCounts());
    }

    [Fact]
    public void ApplyRemote_ReadBeforeALocalTrip_IsDroppedAndTheCircuitStaysOpen()
    {
        var time = new FakeTimeProvider();
        (CircuitBreaker breaker, RecordingCoordinator coordinator) = Attach(time, o => o.FailureThreshold = 1);
        long joinRead = coordinator.Circuit.Version;

        TestBreakers.Fail(breaker);
        bool applied = coordinator.Circuit.ApplyRemote(CircuitState.Closed, TimeSpan.Zero, joinRead);

        Assert.False(applied);
        Assert.Equal(CircuitState.Open, breaker.State);
        Assert.Equal(1, breaker.GetSummary().StateChanges);
    }

    [Fact]
    public void ApplyRemote_ReadAfterTheLocalTrip_MovesTheDeadline()
    {
        var time = new FakeTimeProvider();
        (CircuitBreaker breaker, RecordingCoordinator coordinator) = Attach(time, o =>
        {
            o.FailureThreshold = 1;
            o.RecoveryTimeout = TimeSpan.FromSeconds(1);
        });
        TestBreakers.Fail(breaker);

        Assert.True(coordinator.Circuit.ApplyRemote(CircuitState.Open, TimeSpan.FromSeconds(30), coordinator.Circuit.Version));
        time.Advance(TimeSpan.FromSeconds(29));

        Assert.Equal(CircuitState.Open, breaker.State);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(CircuitState.HalfOpen, breaker.State);
    }

    [Fact]
    public void ApplyRemote_AfterAnotherRemoteTransition_StillApplies()
    {
        var time = new FakeTimeProvider();
        (CircuitBreaker breaker, RecordingCoordinator coordinator) = Attach(time);
        long read = coordinator.Circuit.Version;

        Assert.True(coordinator.Circuit.ApplyRemote(CircuitState.Open, TimeSpan.FromSeconds(5), coordinator.Circuit.Version));
        Assert.True(coordinator.Circuit.ApplyRemote(CircuitState.Isolated, TimeSpan.Zero, read));

        Assert.Equal(CircuitState.Isolated, breaker.State);
        Assert.Empty(coordinator.Trips);
        Assert.Empty(coordinator.ManualChanges);
    }

    [Fact]
    public void ApplyRemote_ReadBeforeAReset_CannotReopen()
    {
        var time = new FakeTimeProvider();
        (CircuitBreaker breaker, RecordingCoordinator coordinator) = Attach(time);
        long read = coordinator.Circuit.Version;

        breaker.Reset();

        Assert.False(coordinator.Circuit.ApplyRemote(CircuitState.Open, TimeSpan.FromSeconds(5), read));
        Assert.Equal(CircuitState.Closed, breaker.State);
    }

    [Fact]
    public void ApplyRemote_UndefinedState_Throws()
    {
        var time = new FakeTimeProvider();
        (_, RecordingCoordinator coordinator) = Attach(time);

        Assert.Throws<ArgumentOutOfRangeException>(() => coordinator.Circuit.ApplyRemote((CircuitState)42, TimeSpan.Zero, 0));
    }

    /// <summary>
    /// A late join read ("closed") raced against a local trip on real threads: whatever the interleaving, the trip was
    /// decided after the read was sent, so the circuit ends open and never flaps closed.
    /// </summary>
    [Fact]
    public void ApplyRemote_LateReadRacingALocalTrip_NeverUndoesTheTrip()
    {
        const int Rounds = 2000;
        int applied = 0;
        for (int round = 0; round < Rounds; round++)
        {
            var breaker = new CircuitBreaker(new CircuitBreakerOptions { Name = "race", FailureThreshold = 1 });
            SharedCircuit? shared = null;
            breaker.SetCoordinator(circuit =>
            {
                shared = circuit;
                return new RecordingCoordinator(circuit);
            });
            long joinRead = shared!.Version;
            int closedAgain = 0;
            breaker.StateChanged += (_, t) =>
            {
                if (t.To == CircuitState.Closed)
                {
                    Interlocked.Increment(ref closedAgain);
                }
            };
            using var start = new Barrier(2);
            var tripper = new Thread(() =>
            {
                start.SignalAndWait();
                breaker.AcquirePermit().RecordFailure(new TestFailureException());
            });
            var reader = new Thread(() =>
            {
                start.SignalAndWait();
                if (shared.ApplyRemote(CircuitState.Closed, TimeSpan.Zero, joinRead))
                {
                    Interlocked.Increment(ref applied);
                }
            });
            tripper.Start();
            reader.Start();
            tripper.Join();
            reader.Join();

            Assert.Equal(CircuitState.Open, breaker.State);
            Assert.Equal(0, closedAgain);
        }

        // Both orders happened: the read applied (a no-op on the closed circuit) when it came first, was dropped after.
        Assert.InRange(applied, 0, Rounds);
    }

    [Fact]
    public void Registry_SetCoordinatorFactory_ReachesHeldAndNewBreakers_EvictionDisposes()
    {
        var registry = new CircuitBreakerRegistry(new CircuitBreakerRegistryOptions { Capacity = 1 });
        CircuitBreaker held = registry.Get("held");
        var made = new List<RecordingCoordinator>();

        registry.SetCoordinatorFactory(circuit =>
        {
            var coordinator = new RecordingCoordinator(circuit);
            lock (made)
            {
                made.Add(coordinator);
            }

            return coordinator;
        });
        _ = registry.Get("new");
        _ = registry.Get("newer");

        Assert.Equal(["held", "new", "newer"], made.Select(c => c.Circuit.Name));
        Assert.Same(held, made[0].Circuit.Breaker);
        Assert.True(made[0].Disposed); // evicted: the registry holds one breaker
        registry.SetCoordinatorFactory(null);
        Assert.All(made, c => Assert.True(c.Disposed));
    }

    [Fact]
    public void TripswitchMetrics_IsTheOneTripswitchMeter()
    {
        Assert.Equal("Tripswitch", TripswitchMetrics.MeterName);
        Assert.Equal(TripswitchMetrics.MeterName, TripswitchMetrics.Meter.Name);
        Assert.Same(TripswitchMetrics.Meter, TripswitchMetrics.Meter);
    }
}
