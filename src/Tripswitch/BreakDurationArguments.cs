namespace Tripswitch;

/// <summary>What <see cref="CircuitBreakerOptions.BreakDurationGenerator"/> receives when the circuit opens.</summary>
/// <param name="CircuitName">The circuit's name.</param>
/// <param name="OpenAttempt">1 when a closed circuit opens; 2, 3, … each time a half-open probe fails in a row.</param>
/// <param name="ComputedDuration">The open period the options would use (recovery timeout with backoff and jitter).</param>
/// <param name="Failure">The failure that caused the opening, when there is one.</param>
public readonly record struct BreakDurationArguments(string CircuitName, int OpenAttempt, TimeSpan ComputedDuration, Exception? Failure);
