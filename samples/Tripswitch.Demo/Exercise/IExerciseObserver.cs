namespace Tripswitch.Demo;

/// <summary>What happened in one call of the exercise.</summary>
internal enum CallOutcome
{
    /// <summary>The call ran and the server answered with a success status.</summary>
    Succeeded,

    /// <summary>The call ran and failed (a non-success status, a timeout, a broken connection).</summary>
    Failed,

    /// <summary>The circuit rejected the call; it never reached the server.</summary>
    Rejected,
}

/// <summary>One call of the exercise.</summary>
/// <param name="Number">1 for the first call.</param>
/// <param name="State">The circuit's state when the call was made.</param>
/// <param name="Outcome">What happened.</param>
/// <param name="Detail">A short description: the response, the failure or the rejection message.</param>
/// <param name="At">When the call ended, relative to the start of the exercise.</param>
internal sealed record CallRecord(int Number, CircuitState State, CallOutcome Outcome, string Detail, TimeSpan At);

/// <summary>How the exercise ended.</summary>
/// <param name="Summary">The breaker's summary at the end.</param>
/// <param name="Start">When the exercise started (the origin of the relative times).</param>
/// <param name="Elapsed">How long the exercise ran.</param>
/// <param name="Calls">How many calls were made and completed.</param>
/// <param name="StateChanges">How many state changes the breaker reported through its event.</param>
/// <param name="Recovered">Whether the circuit closed again after a trip.</param>
/// <param name="HitCallCap">Whether the exercise stopped at its call cap instead of after a recovery.</param>
/// <param name="Interrupted">Whether the user stopped the exercise (Ctrl+C).</param>
internal sealed record ExerciseResult(
    CircuitSummary Summary,
    DateTimeOffset Start,
    TimeSpan Elapsed,
    int Calls,
    int StateChanges,
    bool Recovered,
    bool HitCallCap,
    bool Interrupted);

/// <summary>
/// Receives what the exercise does, in order. The plain-text reporter prints it; a live view can draw it instead.
/// Every method is called from the exercise's own flow, one at a time.
/// </summary>
internal interface IExerciseObserver
{
    void Started(ExerciseSettings settings, Uri serverAddress);

    void CallCompleted(CallRecord call);

    void StateChanged(CircuitTransition transition, TimeSpan at);

    void Finished(ExerciseResult result);
}
