using Microsoft.Extensions.Time.Testing;
using Tripswitch.Sharing;
using Xunit;

namespace Tripswitch.Tests.Sharing;

/// <summary>Several registries in one process acting as one fleet through <see cref="InMemoryFleet"/> (the public seam only).</summary>
public class InMemoryFleetTests
{
    private const string Key = "openai/gpt-4.1";
    private static readonly TimeSpan Recovery = TimeSpan.FromSeconds(10);
    private readonly FakeTimeProvider _time = TestBreakers.Clock();
    private readonly InMemoryFleet _fleet = new();

    private CircuitBreakerRegistry Instance(Action<CircuitBreakerOptions>? configure = null)
    {
        CircuitBreakerRegistry registry = TestBreakers.Registry(_time, o =>
        {
            o.FailureThreshold = 2;
            o.RecoveryTimeout = Recovery;
            o.SuccessThreshold = 1;
            configure?.Invoke(o);
        });
        _fleet.Join(registry);
        return registry;
    }

    [Fact]
    public void Trip_OnOneInstance_OpensEveryInstanceForThePeriodTheTrippingInstanceComputed()
    {
        // The generator gives 4 s: every instance is open exactly 4 s, not the plain RecoveryTimeout.
        CircuitBreakerRegistry a = Instance(o => o.BreakDurationGenerator = _ => TimeSpan.FromSeconds(4));
        CircuitBreakerRegistry b = Instance();
        CircuitBreaker onB = b.Get(Key);

        TestBreakers.Fail(a.Get(Key), 2);

        Assert.Equal(CircuitState.Open, _fleet.GetState(Key));
        TestBreakers.AssertOpenFor(onB, _time, TimeSpan.FromSeconds(4));
    }

    [Fact]
    public void Join_AfterTheFleetTripped_TheNewInstanceStartsOpen()
    {
        CircuitBreakerRegistry a = Instance();
        TestBreakers.Fail(a.Get(Key), 2);
        _time.Advance(TimeSpan.FromSeconds(3));

        CircuitBreaker late = Instance().Get(Key);

        TestBreakers.AssertOpenFor(late, _time, Recovery - TimeSpan.FromSeconds(3));
    }

    [Fact]
    public void Probes_AreLimitedFleetWide_AndASuccessfulProbeClosesEveryInstance()
    {
        CircuitBreaker onA = Instance().Get(Key);
        CircuitBreaker onB = Instance().Get(Key);
        TestBreakers.Fail(onA, 2);
        _time.Advance(Recovery);

        CircuitPermit probe = onA.AcquirePermit(); // the fleet's one probe (HalfOpenMaxCalls = 1)
        CircuitOpenException rejected = Assert.Throws<CircuitOpenException>(() => onB.AcquirePermit());
        Assert.Equal(CircuitState.HalfOpen, rejected.State);

        probe.RecordSuccess();

        Assert.Equal(CircuitState.Closed, onA.State);
        Assert.Equal(CircuitState.Closed, onB.State);
        Assert.Equal(CircuitState.Closed, _fleet.GetState(Key));
    }

    [Fact]
    public void FailedProbe_ReopensEveryInstanceWithTheBackedOffPeriod()
    {
        CircuitBreaker onA = Instance(o => o.RecoveryBackoffMultiplier = 2).Get(Key);
        CircuitBreaker onB = Instance(o => o.RecoveryBackoffMultiplier = 2).Get(Key);
        TestBreakers.Fail(onA, 2);
        _time.Advance(Recovery);

        onB.AcquirePermit().RecordFailure(new TestFailureException());

        TestBreakers.AssertOpenFor(onA, _time, Recovery * 2);
        Assert.Equal(CircuitState.HalfOpen, onB.State);
    }

    [Fact]
    public void IsolateAndReset_OnOneInstance_ApplyToTheWholeFleet()
    {
        CircuitBreaker onA = Instance().Get(Key);
        CircuitBreaker onB = Instance().Get(Key);

        onA.Isolate();
        Assert.Equal(CircuitState.Isolated, onB.State);
        Calls.Rejected(onB, 3); // isolated fleet-wide: calls on B are rejected too
        Assert.Equal(CircuitState.Isolated, _fleet.GetState(Key));

        onB.Reset();
        Assert.Equal(CircuitState.Closed, onA.State);
        Assert.Equal(CircuitState.Closed, _fleet.GetState(Key));
    }

    [Fact]
    public void OtherCircuits_AreNotAffected()
    {
        CircuitBreakerRegistry a = Instance();
        CircuitBreakerRegistry b = Instance();
        CircuitBreaker other = b.Get("anthropic/claude");

        TestBreakers.Fail(a.Get(Key), 2);

        Assert.Equal(CircuitState.Closed, other.State);
        Assert.Equal(CircuitState.Open, b.Get(Key).State);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void TryAcquirePermit_ThreadsOfThreeInstancesRaceAHalfOpenCircuit_AtMostHalfOpenMaxCallsProbesFleetWide(int maxProbes)
    {
        const int Instances = 3;
        const int Threads = 12;
        const int Rounds = 200;
        CircuitBreaker[] circuits = [.. Enumerable.Range(0, Instances).Select(_ => Instance(o =>
        {
            o.HalfOpenMaxCalls = maxProbes;
            o.SuccessThreshold = 1;
        }).Get(Key))];
        var granted = new CircuitPermit?[Threads];
        var problems = new List<string>();
        using var race = new ThreadRace(Threads);
        race.Start(t =>
        {
            for (int r = 0; r < Rounds; r++)
            {
                race.Sync(); // the fleet is open and its period has passed
                granted[t] = circuits[t % Instances].TryAcquirePermit(out CircuitPermit permit, out TimeSpan _) ? permit : null;
                race.Sync();
            }
        });

        for (int r = 0; r < Rounds; r++)
        {
            circuits[r % Instances].Reset();
            TestBreakers.Fail(circuits[r % Instances], 2); // trips the fleet
            _time.Advance(Recovery);
            race.Sync();
            race.Sync();

            CircuitPermit[] probes = [.. granted.OfType<CircuitPermit>()];
            if (probes.Length != maxProbes)
            {
                problems.Add($"round {r}: {probes.Length} probes ran fleet-wide, expected {maxProbes}");
            }

            foreach (CircuitPermit probe in probes)
            {
                probe.RecordSuccess();
            }

            if (circuits.Any(c => c.State != CircuitState.Closed))
            {
                problems.Add($"round {r}: {string.Join(", ", circuits.Select(c => c.State))} after the probes succeeded");
            }
        }

        race.Join();
        Assert.Empty(problems);
    }
}
