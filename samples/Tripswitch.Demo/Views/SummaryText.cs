namespace Tripswitch.Demo;

/// <summary>The end of a run as plain lines: totals, the circuits, the fallbacks, the Retry-After check, the timeline, the fleet.</summary>
internal static class SummaryText
{
    public static IEnumerable<string> Lines(ScenarioResult result, FleetReport? fleet)
    {
        TrafficTotals traffic = result.Traffic;
        yield return string.Empty;
        yield return result.Interrupted
            ? Format.Invariant($"Summary (interrupted with Ctrl+C after {Format.Seconds2(result.Elapsed)})")
            : Format.Invariant($"Summary ({Format.Seconds2(result.Elapsed)}; {(result.AllClosed ? "every circuit closed again" : "some circuits are still not closed")})");
        yield return Format.Invariant(
            $"  requests: {traffic.Requests}: {traffic.Answered} answered by the model asked, {traffic.FellBack} by a fallback model, {traffic.Failed} errors, {traffic.Unavailable} unavailable");
        yield return Format.Invariant($"  {"circuit",-22} {"state",-9} {"calls",6} {"ok",6} {"failed",7} {"rejected",9} {"success",8} {"opened",7} {"longest open",13}");
        foreach (CircuitResult circuit in result.Circuits)
        {
            CircuitSummary s = circuit.Summary;
            yield return Format.Invariant(
                $"  {circuit.Name,-22} {s.State.ToDisplayName(),-9} {s.TotalCalls,6} {s.Successful,6} {s.Failed,7} {s.Rejected,9} {Format.Percent(s.SuccessRate),8} {circuit.Opened,7} {(circuit.Opened > 0 ? Format.Seconds2(circuit.LongestOpen) : "-"),13}");
        }

        foreach (FallbackRoute route in result.Fallbacks)
        {
            yield return Format.Invariant($"  fallback: {route.Count} requests for {route.From} were answered by {route.To}, e.g. \"{route.SampleAnswer}\"");
        }

        yield return "  " + RetryAfterLine(result.RetryAfter);
        yield return string.Empty;

        yield return "Timeline (relative to the start):";
        foreach (TransitionRecord t in result.Timeline)
        {
            yield return Format.Invariant($"  {Format.Offset(t.At),8}  {t.Circuit,-22} {t.From.ToDisplayName() + " → " + t.To.ToDisplayName(),-20} {t.Cause}").TrimEnd();
        }

        if (fleet is not null)
        {
            yield return string.Empty;
            foreach (string line in FleetLines(fleet))
            {
                yield return line;
            }
        }

        yield return string.Empty;
        yield return Format.Invariant($"Finished in {Format.Seconds2(result.Elapsed)}.");
    }

    public static string RetryAfterLine(RetryAfterCheck check)
    {
        if (check.OpenFor is not { } open)
        {
            return $"Retry-After: {check.Circuit} was not opened by a 429 in this run.";
        }

        return check.Honoured
            ? Format.Invariant($"Retry-After honoured: {check.Circuit} stayed open {Format.Seconds2(open)} after its 429s, as asked (Retry-After: {Format.Seconds(check.ServerRetryAfter)}), not {Format.Seconds(check.RecoveryTimeout)}.")
            : Format.Invariant($"Retry-After NOT honoured: {check.Circuit} stayed open {Format.Seconds2(open)} after its 429s; the server asked for {Format.Seconds(check.ServerRetryAfter)} (recovery timeout {Format.Seconds(check.RecoveryTimeout)}).");
    }

    public static IEnumerable<string> FleetLines(FleetReport fleet)
    {
        yield return Format.Invariant($"Fleet: {fleet.Instances.Count} instances sharing circuits through Redis {fleet.Redis}, key prefix {fleet.KeyPrefix}");
        yield return "  only instance 1's models fail; the other instances' FakeLlm stays healthy";
        foreach (FleetPropagation trip in fleet.Propagation)
        {
            yield return Format.Invariant($"  {trip.Circuit}: tripped by instance {trip.TrippedBy} at {Format.Offset(trip.TrippedAt)}; {(trip.SeenByAll ? "every instance saw it open" : "NOT every instance saw it open")}");
            foreach (FleetInstanceReport instance in fleet.Instances)
            {
                FleetCircuitReport? circuit = instance.Circuits.FirstOrDefault(c => c.Circuit == trip.Circuit);
                string label = Format.Invariant($"instance {instance.Instance} (pid {instance.ProcessId})");
                yield return circuit?.FirstOpenAt is { } at
                    ? Format.Invariant($"    {label,-24} saw it open at {Format.Offset(at)}: {HowItOpened(circuit, at - trip.TrippedAt)}")
                    : Format.Invariant($"    {label,-24} never saw it open");
            }
        }

        foreach (FleetInstanceReport instance in fleet.Instances)
        {
            yield return Format.Invariant(
                $"  instance {instance.Instance}: {instance.Requests} requests, {instance.FellBack} answered by a fallback model, {instance.Failed} errors{(instance.ExitCode is { } code ? Format.Invariant($", exit code {code}") : string.Empty)}");
        }
    }

    public static string HowItOpened(FleetCircuitReport circuit, TimeSpan lag) => circuit.FromFleet
        ? Format.Invariant($"from the fleet, {Format.Seconds2(lag)} after the trip, with {circuit.FailuresBeforeOpen} failures of its own")
        : Format.Invariant($"tripped by its own {circuit.FailuresBeforeOpen} failures");
}
