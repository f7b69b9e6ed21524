namespace Tripswitch.Demo;

/// <summary>Puts the first instance's result and its members' reports together.</summary>
internal static class FleetReports
{
    public static FleetReport Build(string redis, string keyPrefix, ScenarioResult origin, IReadOnlyList<FleetMemberStatus> members)
    {
        var instances = new List<FleetInstanceReport>
        {
            new(
                1,
                Environment.ProcessId,
                Origin: true,
                origin.Traffic.Requests,
                origin.Traffic.FellBack,
                origin.Traffic.Failed,
                [.. origin.Circuits.Select(c => CircuitOf(c.Name, origin.Timeline.FirstOrDefault(t => t.Circuit == c.Name && t.To == CircuitState.Open), c.Summary.State))],
                ExitCode: null),
        };

        foreach (FleetMemberStatus member in members)
        {
            instances.Add(new FleetInstanceReport(
                member.Instance,
                member.ProcessId,
                Origin: false,
                member.Requests,
                member.FellBack,
                member.Failed,
                [.. ScenarioSettings.Models.Select(ScenarioSettings.CircuitKey).Select(key => CircuitOf(key, member.FirstOpen(key), member.StateOf(key)))],
                member.ExitCode));
        }

        // Every circuit the first instance's own failures tripped, and whether each instance saw it open.
        var propagation = new List<FleetPropagation>();
        foreach (FleetCircuitReport circuit in instances[0].Circuits)
        {
            if (circuit.FirstOpenAt is { } trippedAt && !circuit.FromFleet)
            {
                bool seenByAll = instances.All(i => i.Circuits.Any(c => c.Circuit == circuit.Circuit && c.FirstOpenAt is not null));
                propagation.Add(new FleetPropagation(circuit.Circuit, 1, trippedAt, seenByAll));
            }
        }

        return new FleetReport(redis, keyPrefix, instances, propagation);
    }

    private static FleetCircuitReport CircuitOf(string circuit, TransitionRecord? firstOpen, CircuitState? stateAtEnd)
        => new(circuit, firstOpen?.At, firstOpen?.FromFleet ?? false, firstOpen?.LocalFailures ?? 0, stateAtEnd);
}
