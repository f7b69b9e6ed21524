namespace Tripswitch.Sharing;

/// <summary>
/// A fleet in one process: several <see cref="CircuitBreakerRegistry"/> (or <see cref="CircuitBreaker"/>) instances that
/// share their circuits by name, as processes share them through Redis. A trip on one instance opens the circuit on all
/// of them for the period the tripping instance's own break-duration policy computed; at most
/// <see cref="CircuitBreakerOptions.HalfOpenMaxCalls"/> probes run fleet-wide; <see cref="CircuitBreakerOptions.SuccessThreshold"/>
/// successful probes (from any instance) close it everywhere, one failed probe reopens it everywhere; an operator's
/// <see cref="CircuitBreaker.Isolate"/> or <see cref="CircuitBreaker.Reset"/> applies to the whole fleet.
/// </summary>
/// <remarks>
/// <para>
/// This is the way to test fleet behaviour without Redis: give each registry of a test to <see cref="Join"/> and drive
/// them on one fake clock (FakeTimeProvider). It is built only on the public shared-state seam
/// (<see cref="CircuitCoordinator"/>, <see cref="SharedCircuit"/>), like Tripswitch.Redis, so it also shows what a
/// coordinator for another store has to do.
/// </para>
/// <para>
/// Failure-rate windows (<see cref="FailureRule.CountWindow"/>, <see cref="FailureRule.TimeWindow"/>) stay per instance
/// here: its coordinators don't claim <see cref="CircuitCoordinator.JudgesFailureWindow"/>, so each instance's own
/// window judges its own calls, and its trip opens the whole fleet. Tripswitch.Redis judges them on the fleet's calls.
/// </para>
/// <para>
/// Propagation is synchronous: the caller whose call tripped (or closed, or reset) a circuit applies the fleet's new state
/// to every other instance before its call returns, running their <see cref="CircuitBreaker.StateChanged"/> handlers on
/// its thread. No lock of the fleet is held while it does so.
/// </para>
/// </remarks>
public sealed class InMemoryFleet
{
    private readonly Lock _sync = new();
    private readonly Dictionary<string, FleetCircuit> _circuits = new(StringComparer.Ordinal);

    /// <summary>Shares every circuit of <paramref name="registry"/>, present and future, with the fleet.</summary>
    /// <param name="registry">The registry of one instance.</param>
    public void Join(CircuitBreakerRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        registry.SetCoordinatorFactory(CreateCoordinator);
    }

    /// <summary>Shares one circuit with the fleet: pass it to <see cref="CircuitBreaker.SetCoordinator"/>.</summary>
    /// <param name="circuit">The circuit, as the seam hands it to a coordinator factory.</param>
    /// <returns>The circuit's coordinator; disposing it leaves the fleet.</returns>
    public CircuitCoordinator CreateCoordinator(SharedCircuit circuit)
    {
        ArgumentNullException.ThrowIfNull(circuit);
        var member = new Member(this, circuit);
        FleetCircuit fleetCircuit;
        lock (_sync)
        {
            if (!_circuits.TryGetValue(circuit.Name, out fleetCircuit!))
            {
                fleetCircuit = new FleetCircuit();
                _circuits.Add(circuit.Name, fleetCircuit);
            }

            fleetCircuit.Members.Add(member);
        }

        member.Circuit = fleetCircuit;
        Publish(fleetCircuit, origin: null, only: member); // the join read: a circuit the fleet has open starts open
        return member;
    }

    /// <summary>The fleet's state of the circuit <paramref name="name"/>, or <see langword="null"/> when no instance has it.</summary>
    /// <param name="name">The circuit's name.</param>
    /// <returns>The state the fleet holds (an open period that has ended still reads <see cref="CircuitState.Open"/> until a probe starts).</returns>
    public CircuitState? GetState(string name)
    {
        lock (_sync)
        {
            return _circuits.TryGetValue(name, out FleetCircuit? circuit) ? circuit.State : null;
        }
    }

    /// <summary>Applies the fleet's current state to the members (all but <paramref name="origin"/>, or only <paramref name="only"/>).</summary>
    private void Publish(FleetCircuit circuit, Member? origin, Member? only = null)
    {
        // Outside the lock (applying runs user handlers). Two publishers may race: each re-reads the fleet's generation
        // after applying and applies again when it moved, so the newest state is always applied last.
        while (true)
        {
            Member[] members;
            CircuitState state;
            DateTimeOffset openUntil;
            long generation;
            lock (_sync)
            {
                members = only is not null ? [only] : [.. circuit.Members];
                (state, openUntil, generation) = (circuit.State, circuit.OpenUntil, circuit.Generation);
            }

            foreach (Member member in members)
            {
                if (member == origin || (state == CircuitState.Closed && member.Shared.State == CircuitState.Closed))
                {
                    continue;
                }

                TimeSpan left = state == CircuitState.Open ? openUntil - member.Now : TimeSpan.Zero;
                member.Shared.ApplyRemote(state, left > TimeSpan.Zero ? left : TimeSpan.Zero, member.Shared.Version);
            }

            lock (_sync)
            {
                if (circuit.Generation == generation)
                {
                    return;
                }
            }

            origin = null; // a newer state arrived meanwhile: it is news for every member
        }
    }

    /// <summary>The fleet's record of one circuit; guarded by the fleet's lock.</summary>
    private sealed class FleetCircuit
    {
        public List<Member> Members { get; } = [];

        public CircuitState State { get; set; } = CircuitState.Closed;

        public DateTimeOffset OpenUntil { get; set; }

        public long Generation { get; private set; }

        public HashSet<long> Probes { get; } = [];

        public int ProbeSuccesses { get; set; }

        public long NextLease { get; set; }

        /// <summary>Moves the fleet to <paramref name="state"/>: a new generation whose probes start from nothing.</summary>
        public void MoveTo(CircuitState state, DateTimeOffset openUntil = default)
        {
            State = state;
            OpenUntil = openUntil;
            Probes.Clear();
            ProbeSuccesses = 0;
            Generation++;
        }
    }

    /// <summary>One instance's circuit in the fleet: the coordinator the seam calls.</summary>
    private sealed class Member(InMemoryFleet fleet, SharedCircuit shared) : CircuitCoordinator, IDisposable
    {
        private readonly TimeProvider _time = shared.Options.TimeProvider;

        public SharedCircuit Shared { get; } = shared;

        public FleetCircuit Circuit { get; set; } = null!;

        public DateTimeOffset Now => _time.GetUtcNow();

        public override bool TryTakeProbeLease(out long lease)
        {
            // Under the circuit's lock: only the fleet's short lock, no callback.
            int maxProbes = Shared.Options.HalfOpenMaxCalls;
            lock (fleet._sync)
            {
                FleetCircuit circuit = Circuit;
                bool stillOpen = circuit.State == CircuitState.Open && Now < circuit.OpenUntil;
                if (circuit.State == CircuitState.Isolated || stillOpen || circuit.Probes.Count >= maxProbes)
                {
                    lease = 0;
                    return false;
                }

                lease = ++circuit.NextLease;
                circuit.Probes.Add(lease);
                circuit.State = CircuitState.HalfOpen;
                return true;
            }
        }

        public override void OnProbeCompleted(long lease, ProbeOutcome outcome, TimeSpan reopenFor)
        {
            int successThreshold = Shared.Options.SuccessThreshold;
            FleetCircuit circuit = Circuit;
            lock (fleet._sync)
            {
                if (!circuit.Probes.Remove(lease))
                {
                    return; // a probe of an earlier generation: the fleet moved on
                }

                if (outcome == ProbeOutcome.Failed)
                {
                    circuit.MoveTo(CircuitState.Open, Now + reopenFor);
                }
                else if (outcome == ProbeOutcome.Succeeded && ++circuit.ProbeSuccesses >= successThreshold)
                {
                    circuit.MoveTo(CircuitState.Closed);
                }
                else
                {
                    return;
                }
            }

            fleet.Publish(circuit, origin: this);
        }

        public override void OnLocalTrip(TimeSpan openFor, TimeSpan? retryAfterHint, long version)
        {
            FleetCircuit circuit = Circuit;
            lock (fleet._sync)
            {
                if (circuit.State == CircuitState.Isolated)
                {
                    return;
                }

                circuit.MoveTo(CircuitState.Open, Now + openFor);
            }

            fleet.Publish(circuit, origin: this);
        }

        public override void OnRetryAfterHint(TimeSpan hint)
        {
            FleetCircuit circuit = Circuit;
            lock (fleet._sync)
            {
                DateTimeOffset until = Now + hint;
                if (circuit.State != CircuitState.Open || until <= circuit.OpenUntil)
                {
                    return;
                }

                circuit.MoveTo(CircuitState.Open, until);
            }

            fleet.Publish(circuit, origin: null);
        }

        public override void OnManualChange(CircuitState state, long version)
        {
            FleetCircuit circuit = Circuit;
            lock (fleet._sync)
            {
                circuit.MoveTo(state);
            }

            fleet.Publish(circuit, origin: this);
        }

        public void Dispose()
        {
            lock (fleet._sync)
            {
                Circuit.Members.Remove(this);
            }
        }
    }
}
