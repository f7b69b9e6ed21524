namespace Tripswitch;

/// <summary>How <see cref="CircuitPermit.RecordOutcome"/> classified and reported a call.</summary>
public enum CallOutcome
{
    /// <summary>The call returned (no exception): recorded as a success (or as a slow failure past <see cref="CircuitBreakerOptions.SlowCallThreshold"/>, when slow calls count as failures).</summary>
    Success,

    /// <summary>The call threw an exception that counts against the circuit (<see cref="CircuitBreakerOptions.ShouldHandle"/> accepted it): recorded as a failure. Only this outcome runs a fallback on failure.</summary>
    Failure,

    /// <summary>The call threw an exception <see cref="CircuitBreakerOptions.ShouldHandle"/> rejects: recorded as neither success nor failure.</summary>
    Ignored,

    /// <summary>
    /// The caller's own token cancelled the call (an <see cref="OperationCanceledException"/> while it is cancelled):
    /// recorded as ignored, unless the call had already run longer than <see cref="CircuitBreakerOptions.SlowCallThreshold"/>
    /// (then a slow failure: callers that give up with their own token must not hide a hung dependency). Never a reason to fall back.
    /// </summary>
    CallerCancelled,
}
