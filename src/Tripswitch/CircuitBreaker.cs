using System.Runtime.CompilerServices;
using Tripswitch.Controller;
using Tripswitch.Sharing;

namespace Tripswitch;

/// <summary>
/// A circuit breaker: stops calling a dependency that keeps failing, lets it recover, and probes it with a bounded
/// number of test calls before trusting it again.
/// </summary>
/// <remarks>
/// Every <c>Execute</c> overload takes the steps of the two-step primitive (<see cref="AcquirePermit"/> /
/// <see cref="TryAcquirePermit(out CircuitPermit, out CircuitRejection)"/>, then one report on the <see cref="CircuitPermit"/>)
/// through the same state machine, with the closed path inlined for speed: the decisions are the primitive's. The
/// closed-state path takes no lock. Instances are thread-safe.
/// </remarks>
public sealed partial class CircuitBreaker
{
    private readonly CircuitStateMachine _machine;
    private SharedCircuit? _shared;

    /// <summary>Creates a breaker. The options are validated and copied: later changes to them have no effect.</summary>
    /// <param name="options">The options; <see langword="null"/> for the defaults.</param>
    /// <exception cref="ArgumentException">An option is out of range; the message names it and the valid range.</exception>
    public CircuitBreaker(CircuitBreakerOptions? options = null)
    {
        CircuitBreakerOptions copy = options?.Clone() ?? new CircuitBreakerOptions();
        copy.Validate();
        _machine = new CircuitStateMachine(copy, copy.Name, this);
    }

    /// <summary>
    /// A registry's breaker, named <paramref name="name"/>: <paramref name="options"/> are validated already and shared,
    /// unchanged, by the registry's breakers that run with the same options (one object, not a copy per circuit).
    /// </summary>
    internal CircuitBreaker(CircuitBreakerOptions options, string name)
    {
        _machine = new CircuitStateMachine(options, name, this);
    }

    /// <summary>The circuit's name (<see cref="CircuitBreakerOptions.Name"/>).</summary>
    public string Name => _machine.Name;

    /// <summary>The current state. Reading it moves an open circuit whose open period is over to half-open.</summary>
    public CircuitState State => _machine.State;

    /// <summary>
    /// A copy of the options the circuit runs with now (validated; <see cref="CircuitBreakerOptions.Name"/> is the
    /// circuit's name). Each read returns a new copy: changing it has no effect on the circuit. To change a running
    /// circuit's options, reconfigure its registry (<see cref="CircuitBreakerRegistry.Reconfigure"/>).
    /// </summary>
    /// <value>A new copy of the current options (delegates and the time provider are shared, not copied).</value>
    public CircuitBreakerOptions Options => _machine.CopyOptions();

    /// <summary>
    /// The clock this circuit reads (<see cref="CircuitBreakerOptions.TimeProvider"/>), without copying the options: use it
    /// to time or cancel work on the circuit's own clock. It never changes while the circuit lives (a registry's
    /// reconfiguration with another time provider is refused).
    /// </summary>
    /// <value>The options' time provider; <see cref="System.TimeProvider.System"/> by default.</value>
    public TimeProvider TimeProvider => _machine.Options.TimeProvider;

    /// <summary>
    /// Whether a handled failure runs the fallback (<see cref="CircuitBreakerOptions.FallbackOnFailure"/> of the options
    /// the circuit runs with now), read without copying the options. It follows a registry's reconfiguration.
    /// </summary>
    /// <value><see langword="true"/> when a call that fails with a handled failure is answered by the fallback.</value>
    public bool FallbackOnFailure => _machine.Options.FallbackOnFailure;

    internal CircuitStateMachine Machine => _machine;

    /// <summary>
    /// Plugs shared state into this circuit (see <see cref="CircuitCoordinator"/>): <paramref name="factory"/> receives
    /// the circuit's <see cref="SharedCircuit"/> and returns its coordinator. The coordinator it replaces, if any, is
    /// disposed when it implements <see cref="IDisposable"/>. Works before or while calls run.
    /// </summary>
    /// <param name="factory">Makes the coordinator; <see langword="null"/> (or a factory returning <see langword="null"/>) detaches the current one.</param>
    public void SetCoordinator(Func<SharedCircuit, CircuitCoordinator?>? factory)
    {
        CircuitCoordinator? coordinator = factory?.Invoke(Shared);
        (_machine.Attach(coordinator) as IDisposable)?.Dispose();
    }

    /// <summary>This circuit as its coordinator sees it (made on first use: most circuits never join a fleet).</summary>
    internal SharedCircuit Shared
    {
        get
        {
            SharedCircuit? shared = Volatile.Read(ref _shared);
            if (shared is null)
            {
                Interlocked.CompareExchange(ref _shared, new SharedCircuit(this, _machine), null);
                shared = _shared!;
            }

            return shared;
        }
    }

    /// <summary>
    /// Applies a registry's new options (validated already, shared and never changed) keeping the state and the counts.
    /// The name and time provider cannot change.
    /// </summary>
    internal void Reconfigure(CircuitBreakerOptions options) => _machine.Reconfigure(options);

    /// <summary>Acquires a permit for one call, or throws when the circuit rejects it.</summary>
    /// <returns>The permit; report the call's outcome on it exactly once.</returns>
    /// <exception cref="CircuitOpenException">The circuit is open, half-open with every probe slot taken, or isolated.</exception>
    public CircuitPermit AcquirePermit() => _machine.AcquireOrThrow();

    /// <summary>
    /// Acquires a permit for one call without throwing when the circuit rejects it: the fast way to handle rejections
    /// (no exception, no allocation, no clock read unless you read <see cref="CircuitRejection.RetryAfter"/>).
    /// </summary>
    /// <param name="permit">The permit when granted; report the call's outcome on it exactly once.</param>
    /// <param name="rejection">When rejected, why: the state and how long until a call may pass.</param>
    /// <returns><see langword="true"/> when the call may proceed.</returns>
    [OverloadResolutionPriority(1)]
    public bool TryAcquirePermit(out CircuitPermit permit, out CircuitRejection rejection)
        => _machine.TryAcquire(out permit, out rejection);

    /// <summary>Acquires a permit for one call without throwing when the circuit rejects it.</summary>
    /// <param name="permit">The permit when granted; report the call's outcome on it exactly once.</param>
    /// <param name="retryAfter">When rejected, how long until the circuit may let a call through (never negative); otherwise zero.</param>
    /// <returns><see langword="true"/> when the call may proceed.</returns>
    public bool TryAcquirePermit(out CircuitPermit permit, out TimeSpan retryAfter)
    {
        bool granted = _machine.TryAcquire(out permit, out CircuitRejection rejection);
        retryAfter = granted ? TimeSpan.Zero : rejection.RetryAfter;
        return granted;
    }

    /// <summary>Runs <paramref name="action"/> through the circuit.</summary>
    /// <typeparam name="T">The result type.</typeparam>
    /// <param name="action">The call to protect.</param>
    /// <returns>What <paramref name="action"/> returned.</returns>
    /// <exception cref="CircuitOpenException">The circuit rejected the call; <paramref name="action"/> did not run.</exception>
    public T Execute<T>(Func<T> action)
    {
        ArgumentNullException.ThrowIfNull(action);
        if (!_machine.TryAcquireClosed(out CircuitPermit permit) && TryAcquireSlow(out permit) is { } rejected)
        {
            throw rejected; // thrown here, not deeper: a throw costs by the frames it unwinds
        }

        T result;
        try
        {
            result = action();
        }
        catch (Exception ex)
        {
            permit.RecordOutcome(ex);
            throw;
        }

        permit.RecordSuccess();
        return result;
    }

    /// <summary>Runs <paramref name="action"/> through the circuit.</summary>
    /// <param name="action">The call to protect.</param>
    /// <exception cref="CircuitOpenException">The circuit rejected the call; <paramref name="action"/> did not run.</exception>
    public void Execute(Action action)
    {
        ArgumentNullException.ThrowIfNull(action);
        if (!_machine.TryAcquireClosed(out CircuitPermit permit) && TryAcquireSlow(out permit) is { } rejected)
        {
            throw rejected; // thrown here, not deeper: a throw costs by the frames it unwinds
        }

        try
        {
            action();
        }
        catch (Exception ex)
        {
            permit.RecordOutcome(ex);
            throw;
        }

        permit.RecordSuccess();
    }

    /// <summary>
    /// Runs <paramref name="action"/> through the circuit, or <paramref name="fallback"/> when the circuit rejects the call
    /// (and also when the call fails with a handled failure, if <see cref="CircuitBreakerOptions.FallbackOnFailure"/> is set).
    /// </summary>
    /// <typeparam name="T">The result type.</typeparam>
    /// <param name="action">The call to protect.</param>
    /// <param name="fallback">Gets the reason: the <see cref="CircuitOpenException"/> of the rejection, or the call's failure. Its own exceptions reach the caller unchanged.</param>
    /// <returns>What <paramref name="action"/> or <paramref name="fallback"/> returned.</returns>
    public T Execute<T>(Func<T> action, Func<Exception, T> fallback)
    {
        ArgumentNullException.ThrowIfNull(action);
        ArgumentNullException.ThrowIfNull(fallback);
        if (!_machine.TryAcquireClosed(out CircuitPermit permit) && TryAcquireSlow(out permit) is { } rejected)
        {
            return fallback(rejected);
        }

        T result;
        try
        {
            result = action();
        }
        catch (Exception ex)
        {
            // Not an exception filter: a throwing ShouldHandle must surface, and exceptions in filters are swallowed.
            if (permit.RecordOutcome(ex) != CallOutcome.Failure || !FallbackOnFailure)
            {
                throw;
            }

            return fallback(ex);
        }

        permit.RecordSuccess();
        return result;
    }

    /// <summary>
    /// A snapshot of the circuit's state, counts and recent transitions. Like reading
    /// <see cref="State"/>, it first performs what time alone decides (an open period that ended, a probe that timed out).
    /// </summary>
    /// <returns>The snapshot.</returns>
    public CircuitSummary GetSummary() => _machine.GetSummary();

    /// <summary>
    /// Forces the circuit into <see cref="CircuitState.Isolated"/>: every call is rejected until <see cref="Reset"/>.
    /// In <see cref="CircuitBreakerMode.MetricsOnly"/> mode the isolation is recorded but calls still pass; in
    /// <see cref="CircuitBreakerMode.Disabled"/> mode it does nothing.
    /// </summary>
    public void Isolate() => _machine.Isolate();

    /// <summary>Closes the circuit and clears its consecutive-failure count (also ends an isolation).</summary>
    public void Reset() => _machine.Reset();

    /// <inheritdoc/>
    public override string ToString() => $"CircuitBreaker '{Name}' ({State})";

    private static CircuitOpenException CreateRejectedException(CircuitRejection rejection) => rejection.ToException();

    /// <summary>
    /// The acquire of the overloads that hand a rejection on instead of throwing it, past the closed-state fast path
    /// (<see cref="CircuitStateMachine.TryAcquireClosed"/>): kept out of line so that their hot path carries no rejection.
    /// </summary>
    /// <returns><see langword="null"/> when <paramref name="permit"/> was granted; otherwise the rejection's exception.</returns>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private CircuitOpenException? TryAcquireSlow(out CircuitPermit permit)
        => _machine.TryAcquire(out permit, out CircuitRejection rejection) ? null : CreateRejectedException(rejection);
}
