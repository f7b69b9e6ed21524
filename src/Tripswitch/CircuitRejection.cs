using Tripswitch.Controller;

namespace Tripswitch;

/// <summary>
/// Why a circuit refused a permit, from the non-throwing <see cref="CircuitBreaker.TryAcquirePermit(out CircuitPermit, out CircuitRejection)"/>:
/// the state and how long until a call may pass. Costs nothing until read: <see cref="RetryAfter"/> reads the clock
/// only when asked.
/// </summary>
public readonly struct CircuitRejection
{
    private readonly CircuitStateMachine? _machine;
    private readonly long _openUntil;

    internal CircuitRejection(CircuitStateMachine machine, CircuitState state, long openUntil)
    {
        _machine = machine;
        State = state;
        _openUntil = openUntil;
    }

    /// <summary>The name of the circuit that refused the call.</summary>
    public string CircuitName => _machine?.Name ?? string.Empty;

    /// <summary>The state the circuit was in: <see cref="CircuitState.Open"/>, <see cref="CircuitState.HalfOpen"/> (every probe slot taken) or <see cref="CircuitState.Isolated"/>.</summary>
    public CircuitState State { get; }

    /// <summary>
    /// How long until the circuit may let a call through, never negative: the rest of the open period when open;
    /// <see cref="TimeSpan.Zero"/> when half-open (a probe's outcome decides); <see cref="TimeSpan.MaxValue"/> when isolated.
    /// </summary>
    public TimeSpan RetryAfter
    {
        get
        {
            if (_machine is null)
            {
                return TimeSpan.Zero;
            }

            return State switch
            {
                CircuitState.Isolated => TimeSpan.MaxValue,
                CircuitState.Open => _machine.TimeUntil(_openUntil),
                _ => TimeSpan.Zero,
            };
        }
    }

    /// <summary>The exception the throwing overloads would have thrown for this rejection.</summary>
    /// <returns>A new <see cref="CircuitOpenException"/>.</returns>
    public CircuitOpenException ToException() => new(CircuitName, State, RetryAfter);

    /// <inheritdoc/>
    public override string ToString() => _machine is null ? "(not rejected)" : ToException().Message;
}
