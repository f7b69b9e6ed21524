using System.Globalization;

namespace Tripswitch;

/// <summary>Thrown when a circuit rejects a call because it is open, half-open with every probe slot taken, or isolated.</summary>
public sealed class CircuitOpenException : Exception
{
    private string? _message;

    /// <summary>Creates an exception for a rejected call.</summary>
    /// <param name="circuitName">The name of the circuit that rejected the call.</param>
    /// <param name="state">The state the circuit was in.</param>
    /// <param name="retryAfter">How long until the circuit may let a call through; negative values are clamped to zero.</param>
    public CircuitOpenException(string circuitName, CircuitState state, TimeSpan retryAfter)
    {
        CircuitName = circuitName;
        State = state;
        RetryAfter = retryAfter < TimeSpan.Zero ? TimeSpan.Zero : retryAfter;
    }

    /// <summary>Creates an exception with no details (for serializers and tests).</summary>
    public CircuitOpenException()
        : this("unknown", CircuitState.Open, TimeSpan.Zero)
    {
    }

    /// <summary>Creates an exception with a message of your own.</summary>
    /// <param name="message">The message.</param>
    public CircuitOpenException(string message)
        : this(message, null!)
    {
    }

    /// <summary>Creates an exception with a message of your own and an inner exception.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The exception that caused this one.</param>
    public CircuitOpenException(string message, Exception innerException)
        : base(message, innerException)
    {
        _message = message;
        CircuitName = "unknown";
        State = CircuitState.Open;
    }

    /// <summary>The name of the circuit that rejected the call.</summary>
    public string CircuitName { get; }

    /// <summary>The state the circuit was in when it rejected the call: <see cref="CircuitState.Open"/>, <see cref="CircuitState.HalfOpen"/> or <see cref="CircuitState.Isolated"/>.</summary>
    public CircuitState State { get; }

    /// <summary>
    /// How long until the circuit may let a call through. Never negative. <see cref="TimeSpan.Zero"/> when half-open
    /// (a probe is running and its outcome decides); <see cref="TimeSpan.MaxValue"/> when isolated (only a reset ends it).
    /// </summary>
    public TimeSpan RetryAfter { get; }

    /// <summary>Like <c>Circuit 'openai/gpt-4.1' is open. Retry after 12.3s</c> (formatted when first read, so a rejection that is caught and dropped never pays for it).</summary>
    public override string Message => _message ??= State switch
    {
        CircuitState.Isolated => string.Create(CultureInfo.InvariantCulture, $"Circuit '{CircuitName}' is isolated. It rejects every call until it is reset."),
        CircuitState.HalfOpen => string.Create(CultureInfo.InvariantCulture, $"Circuit '{CircuitName}' is half-open and every probe slot is taken. Retry after {RetryAfter.TotalSeconds:0.0}s"),
        _ => string.Create(CultureInfo.InvariantCulture, $"Circuit '{CircuitName}' is open. Retry after {RetryAfter.TotalSeconds:0.0}s"),
    };
}
