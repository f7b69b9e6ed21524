namespace Tripswitch;

/// <summary>The breaker's events, and how its state machine and its registry reach them (direct calls, no delegates until someone subscribes).</summary>
public sealed partial class CircuitBreaker
{
    private CircuitBreakerRegistry? _registry;

    /// <summary>
    /// Raised for every call the circuit rejects, on the caller's thread, outside any lock (for logging at a fine level;
    /// keep handlers cheap: they run on the rejection path).
    /// </summary>
    public event EventHandler<CircuitRejection>? Rejected;

    /// <summary>
    /// Raised after every state change, outside any internal lock, in the order the changes happened. A handler that
    /// throws does not affect the breaker; keep handlers short, since the thread that delivers them waits for them.
    /// </summary>
    public event EventHandler<CircuitTransition>? StateChanged;

    /// <summary>
    /// The registry that lists this breaker and raises its events too (a direct reference rather than a subscription to
    /// this breaker's events: two delegates less per circuit). Null for a standalone breaker and once evicted.
    /// </summary>
    internal CircuitBreakerRegistry? Registry
    {
        get => Volatile.Read(ref _registry);
        set => Volatile.Write(ref _registry, value);
    }

    /// <summary>The state machine's call for every transition (outside its lock, in order): the registry's handlers, then this breaker's.</summary>
    internal void OnStateChanged(CircuitTransition transition)
    {
        Registry?.OnBreakerStateChanged(this, transition);
        StateChanged?.Invoke(this, transition);
    }

    /// <summary>The state machine's call for every rejected call (on the caller's thread): the registry's handlers, then this breaker's.</summary>
    internal void OnRejected(CircuitRejection rejection)
    {
        Registry?.OnBreakerRejected(this, rejection);
        Rejected?.Invoke(this, rejection);
    }
}
