namespace Tripswitch;

/// <summary>One change of a circuit's state, as logged in <see cref="CircuitSummary.Transitions"/> and raised by <see cref="CircuitBreaker.StateChanged"/>.</summary>
/// <param name="CircuitName">The name of the circuit that changed state.</param>
/// <param name="From">The state the circuit left.</param>
/// <param name="To">The state the circuit entered.</param>
/// <param name="At">When the change happened, read from the circuit's <see cref="CircuitBreakerOptions.TimeProvider"/>.</param>
/// <param name="Cause">The failure that caused the change, when there is one (the failure that tripped the circuit, or the failed probe); otherwise <see langword="null"/>.</param>
public readonly record struct CircuitTransition(
    string CircuitName,
    CircuitState From,
    CircuitState To,
    DateTimeOffset At,
    Exception? Cause);
