using System.Globalization;

namespace Tripswitch.Demo;

/// <summary>Prints the exercise as plain text: one line per call, one per transition, then the summary and the timeline.</summary>
internal sealed class PlainTextReporter(TextWriter output) : IExerciseObserver
{
    public void Started(ExerciseSettings settings, Uri serverAddress)
    {
        output.WriteLine($"Tripswitch demo: the circuit-breaker hands-on exercise (seed {settings.Seed})");
        output.WriteLine(Invariant($"Flaky server: GET {new Uri(serverAddress, FlakyServer.FlakyPath.TrimStart('/'))} fails {settings.FailureRate * 100:0}% of requests with HTTP 500"));
        output.WriteLine(Invariant(
            $"Circuit '{settings.CircuitName}': FailureThreshold={settings.FailureThreshold}, RecoveryTimeout={Seconds(settings.RecoveryTimeout)}, SuccessThreshold={settings.SuccessThreshold}, HalfOpenMaxCalls={settings.HalfOpenMaxCalls}"));
        output.WriteLine();
    }

    public void CallCompleted(CallRecord call)
        => output.WriteLine(Invariant($"Call {call.Number} [{call.State.ToDisplayName()}] {call.Detail}"));

    public void StateChanged(CircuitTransition transition, TimeSpan at)
        => output.WriteLine($"Circuit: {transition.ToDisplayName()}");

    public void Finished(ExerciseResult result)
    {
        CircuitSummary summary = result.Summary;
        output.WriteLine();
        if (result.Interrupted)
        {
            output.WriteLine("Interrupted (Ctrl+C).");
            output.WriteLine();
        }
        else if (result.HitCallCap)
        {
            output.WriteLine(Invariant($"Stopped at the cap of {result.Calls} calls before the circuit had closed again."));
            output.WriteLine();
        }

        output.WriteLine("Summary:");
        output.WriteLine(Invariant($"  state:                {summary.State.ToDisplayName()}"));
        output.WriteLine(Invariant($"  consecutive failures: {summary.ConsecutiveFailures}"));
        output.WriteLine(Invariant($"  success rate:         {summary.SuccessRate * 100:0.0}%"));
        output.WriteLine(Invariant($"  total calls:          {summary.TotalCalls}"));
        output.WriteLine(Invariant($"  successful:           {summary.Successful}"));
        output.WriteLine(Invariant($"  failed:               {summary.Failed}"));
        output.WriteLine(Invariant($"  rejected:             {summary.Rejected}"));
        if (summary.Ignored != 0)
        {
            output.WriteLine(Invariant($"  ignored:              {summary.Ignored}"));
        }

        output.WriteLine(Invariant($"  state changes:        {result.StateChanges}"));
        output.WriteLine();

        output.WriteLine("Timeline (relative to the start):");
        bool truncated = summary.Transitions.Count < result.StateChanges;
        if (truncated)
        {
            output.WriteLine(Invariant($"  ({result.StateChanges - summary.Transitions.Count} earlier changes are no longer in the summary's log)"));
        }

        TimeSpan previous = TimeSpan.Zero;
        CircuitState? previousState = truncated ? null : CircuitState.Closed;
        foreach (CircuitTransition transition in summary.Transitions)
        {
            TimeSpan at = transition.At - result.Start;
            string stayed = transition.From == previousState
                ? Invariant($"  (after {Seconds(at - previous)} {transition.From.ToDisplayName()})")
                : string.Empty;
            output.WriteLine(Invariant($"  {Offset(at),8}  {transition.ToDisplayName(),-20}{stayed}"));
            previous = at;
            previousState = transition.To;
        }

        output.WriteLine();
        output.WriteLine(Invariant($"Finished in {Seconds(result.Elapsed)} after {result.Calls} calls."));
    }

    private static string Seconds(TimeSpan span) => Invariant($"{span.TotalSeconds:0.00}s");

    private static string Offset(TimeSpan span) => Invariant($"+{span.TotalSeconds:0.000}s");

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
