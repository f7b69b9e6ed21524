namespace Tripswitch.Testing;

/// <summary>Collects every transition a breaker raises, from any thread.</summary>
public sealed class TransitionRecorder
{
    private readonly Lock _sync = new();
    private readonly List<CircuitTransition> _transitions = [];

    /// <summary>Subscribes to <paramref name="breaker"/>'s <see cref="CircuitBreaker.StateChanged"/>.</summary>
    public TransitionRecorder(CircuitBreaker breaker)
    {
        ArgumentNullException.ThrowIfNull(breaker);
        breaker.StateChanged += (_, t) =>
        {
            lock (_sync)
            {
                _transitions.Add(t);
            }
        };
    }

    /// <summary>The transitions raised so far, oldest first.</summary>
    public IReadOnlyList<CircuitTransition> Transitions
    {
        get
        {
            lock (_sync)
            {
                return [.. _transitions];
            }
        }
    }

    /// <summary>The (From, To) pairs of <see cref="Transitions"/>.</summary>
    public (CircuitState From, CircuitState To)[] Pairs => [.. Transitions.Select(t => (t.From, t.To))];
}
