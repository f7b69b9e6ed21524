namespace Tripswitch;

/// <summary>The state of a circuit.</summary>
public enum CircuitState
{
    /// <summary>Normal operation: every call passes through and its outcome is recorded.</summary>
    Closed = 0,

    /// <summary>The circuit has tripped: calls are rejected at once until the open period ends.</summary>
    Open = 1,

    /// <summary>Testing recovery: at most <see cref="CircuitBreakerOptions.HalfOpenMaxCalls"/> probe calls run at a time; every other call is rejected.</summary>
    HalfOpen = 2,

    /// <summary>Forced open by an operator through <see cref="CircuitBreaker.Isolate"/>: every call is rejected until <see cref="CircuitBreaker.Reset"/>.</summary>
    Isolated = 3,
}
