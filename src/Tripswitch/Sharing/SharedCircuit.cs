using Tripswitch.Controller;

namespace Tripswitch.Sharing;

/// <summary>
/// What a <see cref="CircuitCoordinator"/> may see and do of its circuit: read its name, options, state, version and
/// counts; compute open periods with the circuit's own break-duration policy; and apply the fleet's state. One per
/// circuit; it is handed to the coordinator factory (<see cref="CircuitBreakerRegistry.SetCoordinatorFactory"/>,
/// <see cref="CircuitBreaker.SetCoordinator"/>).
/// </summary>
/// <remarks>
/// Every member is thread-safe, never blocks on anything but the circuit's own short lock, and may be called from any
/// thread, including from inside <see cref="CircuitCoordinator"/> notifications other than
/// <see cref="CircuitCoordinator.TryTakeProbeLease"/>. <see cref="ComputeOpenPeriod"/> runs the user's
/// <see cref="CircuitBreakerOptions.BreakDurationGenerator"/> and <see cref="ApplyRemote"/> runs the user's
/// <see cref="CircuitBreaker.StateChanged"/> handlers on the calling thread: don't call them while holding a lock of your
/// own that those handlers could need.
/// </remarks>
public sealed class SharedCircuit
{
    private readonly CircuitStateMachine _machine;
    private OptionsCopy? _options; // the copy Options returns, with the options object it was made from

    internal SharedCircuit(CircuitBreaker breaker, CircuitStateMachine machine)
    {
        Breaker = breaker;
        _machine = machine;
    }

    /// <summary>The breaker this circuit belongs to (for its events and <see cref="CircuitBreaker.GetSummary"/>).</summary>
    public CircuitBreaker Breaker { get; }

    /// <summary>The circuit's name: the key the fleet shares it under.</summary>
    public string Name => _machine.Name;

    /// <summary>
    /// A copy of the circuit's current options (see <see cref="CircuitBreaker.Options"/>): they may change while it runs (a
    /// registry's reconfiguration), so read them when you need them. Reading is cheap: the copy is made once per
    /// configuration and every read returns it until the options change, so treat it as read-only (changing it has no
    /// effect on the circuit, but later reads would see the change).
    /// </summary>
    /// <value>The copy of the options the circuit runs with now; <see cref="CircuitBreakerOptions.Name"/> is the circuit's name.</value>
    public CircuitBreakerOptions Options
    {
        get
        {
            // A coordinator reads the options for every report it sends (per circuit, per report interval): a copy per
            // read would cost one allocation per active circuit per interval. The circuit's options object is never
            // changed, only replaced, so a copy stays true until the reference changes.
            CircuitBreakerOptions current = _machine.Options;
            OptionsCopy? cached = Volatile.Read(ref _options);
            if (cached is null || !ReferenceEquals(cached.Source, current))
            {
                cached = new OptionsCopy(current, _machine.CopyOptions()); // a reload in between is caught by the next read
                Volatile.Write(ref _options, cached);
            }

            return cached.Copy;
        }
    }

    /// <summary>The longest any open period of this circuit can be (hints included): <see cref="CircuitBreakerOptions.MaxRecoveryTimeout"/> when set, otherwise the default cap (<see cref="CircuitBreakerOptions.RecoveryTimeout"/> when that is longer).</summary>
    public TimeSpan MaxOpenPeriod => _machine.Options.EffectiveMaxRecoveryTimeout;

    /// <summary>The state as stored. Unlike <see cref="CircuitBreaker.State"/>, reading it never performs a due transition.</summary>
    public CircuitState State => _machine.RawState;

    /// <summary>
    /// The circuit's version: it increases with every transition (local or applied from the fleet) and every
    /// <see cref="CircuitBreaker.Reset"/>, and never decreases. Read it when you send a read to the store, and pass it
    /// to <see cref="ApplyRemote"/> with the answer.
    /// </summary>
    public long Version => _machine.Version;

    /// <summary>Reads the circuit's cumulative outcome counts (slow calls included) and its consecutive-failure count (lock-free, no allocation).</summary>
    /// <returns>The counts.</returns>
    public SharedCircuitCounts ReadCounts()
    {
        CounterSnapshot counts = _machine.Counts;
        return new SharedCircuitCounts(counts.Successful, counts.Failed, _machine.ConsecutiveFailures, counts.Slow);
    }

    /// <summary>
    /// Computes an open period with the circuit's own break-duration policy, exactly as the circuit does when it opens on
    /// its own: <see cref="CircuitBreakerOptions.RecoveryTimeout"/> with backoff for <paramref name="openAttempt"/> and
    /// jitter, or the <see cref="CircuitBreakerOptions.BreakDurationGenerator"/>; at least <paramref name="retryAfter"/>;
    /// capped by <see cref="MaxOpenPeriod"/>. Each call draws new jitter and calls the generator again.
    /// </summary>
    /// <param name="openAttempt">1 for the opening that trips a closed circuit; one more for each failed probe since.</param>
    /// <param name="cause">The failure that opens it, passed to the generator.</param>
    /// <param name="retryAfter">A Retry-After hint the failure carried: the period is at least that long (capped).</param>
    /// <returns>The open period.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="openAttempt"/> is less than 1.</exception>
    public TimeSpan ComputeOpenPeriod(int openAttempt = 1, Exception? cause = null, TimeSpan? retryAfter = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(openAttempt, 1);
        return _machine.ComputeOpenPeriod(openAttempt, cause, retryAfter);
    }

    /// <summary>
    /// Makes the circuit follow the fleet's state: <paramref name="state"/>, with <paramref name="openFor"/> left of an
    /// open period; applied only when it is newer than what the circuit knows. Never calls the coordinator back.
    /// </summary>
    /// <remarks>
    /// <para>
    /// <b>Newer only.</b> <paramref name="basedOnVersion"/> is the <see cref="Version"/> you read when you sent the read
    /// (the join read, a resync, a report) whose answer this is, or when a pushed message arrived. When the circuit made
    /// a transition of its own since that version (it tripped, a probe closed or reopened it, an open period ended, an
    /// operator acted), the answer is older than what the circuit knows and nothing changes: a late answer can never
    /// undo a local decision. Ordering the store's own states among themselves (e.g. by a store-side generation) is the
    /// coordinator's job.
    /// </para>
    /// <para>
    /// When applied, a transition (new version, log entry, <see cref="CircuitBreaker.StateChanged"/>) happens only when
    /// the state differs; an open circuit's deadline is moved to the fleet's. The decision is taken under the circuit's
    /// lock, the handlers run after it on the calling thread.
    /// </para>
    /// </remarks>
    /// <param name="state">The fleet's state.</param>
    /// <param name="openFor">When <paramref name="state"/> is <see cref="CircuitState.Open"/>, what is left of its open period (negative counts as zero).</param>
    /// <param name="basedOnVersion">The circuit's <see cref="Version"/> when the information was requested or received.</param>
    /// <returns><see langword="true"/> when the state was applied; <see langword="false"/> when it was older than the circuit's own decisions.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="state"/> is not a defined <see cref="CircuitState"/>.</exception>
    public bool ApplyRemote(CircuitState state, TimeSpan openFor, long basedOnVersion)
    {
        if (!Enum.IsDefined(state))
        {
            throw new ArgumentOutOfRangeException(nameof(state), state, "The fleet's state must be Closed, Open, HalfOpen or Isolated.");
        }

        return _machine.ApplyRemote(state, openFor, basedOnVersion);
    }

    /// <inheritdoc/>
    public override string ToString() => $"SharedCircuit '{Name}' ({State}, version {Version})";

    private sealed record OptionsCopy(CircuitBreakerOptions Source, CircuitBreakerOptions Copy);
}
