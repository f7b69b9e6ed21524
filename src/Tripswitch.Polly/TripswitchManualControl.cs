using System.Runtime.CompilerServices;

namespace Tripswitch.Polly;

/// <summary>
/// Isolates and closes the circuits of the Tripswitch strategies that use it, as Polly's
/// <c>CircuitBreakerManualControl</c> does for Polly's own breaker: set it on
/// <see cref="TripswitchStrategyOptions{TResult}.ManualControl"/>. It maps onto <see cref="CircuitBreaker.Isolate"/> and
/// <see cref="CircuitBreaker.Reset"/>, so the circuits' state machines decide everything else.
/// </summary>
/// <remarks>
/// A strategy with <see cref="TripswitchStrategyOptions{TResult}.Breaker"/> hands its circuit over when its pipeline is
/// built; one with a <see cref="TripswitchStrategyOptions{TResult}.Registry"/> hands over each circuit the first time an
/// execution runs through it. A circuit handed over while the control is isolated is isolated at once. The handle holds
/// its circuits weakly (an evicted circuit is not kept alive) and never holds a lock while a circuit changes state, so
/// state-change handlers never run under it.
/// </remarks>
public sealed class TripswitchManualControl
{
    private static readonly object s_present = new();
    private readonly ConditionalWeakTable<CircuitBreaker, object> _circuits = new();
    private readonly Lock _sync = new();
    private bool _isolated;

    /// <summary>Whether <see cref="IsolateAsync"/> was called last (rather than <see cref="CloseAsync"/>).</summary>
    public bool IsIsolated
    {
        get
        {
            lock (_sync)
            {
                return _isolated;
            }
        }
    }

    /// <summary>
    /// Isolates every circuit handed over so far (<see cref="CircuitState.Isolated"/>: calls are rejected until
    /// <see cref="CloseAsync"/>), and every circuit handed over from now on.
    /// </summary>
    /// <param name="cancellationToken">Cancels before anything is isolated.</param>
    /// <returns>A task that completes when the circuits are isolated.</returns>
    public Task IsolateAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        foreach (CircuitBreaker circuit in Snapshot(isolated: true))
        {
            circuit.Isolate(); // outside the lock: the circuit's state-change handlers run on this thread
        }

        return Task.CompletedTask;
    }

    /// <summary>Closes every circuit handed over so far (<see cref="CircuitBreaker.Reset"/>: closed, counts cleared), ending an isolation.</summary>
    /// <param name="cancellationToken">Cancels before anything is closed.</param>
    /// <returns>A task that completes when the circuits are closed.</returns>
    public Task CloseAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        foreach (CircuitBreaker circuit in Snapshot(isolated: false))
        {
            circuit.Reset();
        }

        return Task.CompletedTask;
    }

    /// <summary>Takes a circuit a strategy runs executions through (idempotent); isolates it when the control is isolated.</summary>
    internal void Attach(CircuitBreaker circuit)
    {
        bool isolate;
        lock (_sync)
        {
            if (!_circuits.TryAdd(circuit, s_present))
            {
                return;
            }

            isolate = _isolated;
        }

        if (isolate)
        {
            circuit.Isolate();
            lock (_sync)
            {
                // CloseAsync ran between the read above and Isolate, and missed this isolation: undo it below.
                isolate = _isolated;
            }

            if (!isolate)
            {
                circuit.Reset();
            }
        }
    }

    private List<CircuitBreaker> Snapshot(bool isolated)
    {
        lock (_sync)
        {
            _isolated = isolated;
            var circuits = new List<CircuitBreaker>();
            foreach (KeyValuePair<CircuitBreaker, object> entry in _circuits)
            {
                circuits.Add(entry.Key);
            }

            return circuits;
        }
    }
}
