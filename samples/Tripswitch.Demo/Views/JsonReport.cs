using System.Text.Json;
using System.Text.Json.Serialization;

namespace Tripswitch.Demo;

/// <summary>
/// The machine-readable summary that <c>--json</c> prints on stdout at the end (and nothing else goes to stdout).
/// Times are in seconds from the start of the run; states are <c>closed</c>, <c>open</c>, <c>half-open</c>, <c>isolated</c>.
/// </summary>
internal static class JsonReport
{
    private static readonly JsonSerializerOptions s_options = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public static string Write(ScenarioResult result, FleetReport? fleet, Uri? dashboard)
    {
        ScenarioSettings settings = result.Settings;
        var report = new Report(
            Seed: settings.Seed,
            DurationSeconds: settings.Duration.TotalSeconds,
            ElapsedSeconds: Round(result.Elapsed),
            Interrupted: result.Interrupted,
            Users: settings.Users,
            Server: result.Start.ServerEndpoint.ToString(),
            Dashboard: dashboard?.ToString(),
            Settings: new SettingsDto(settings.FailureThreshold, Round(settings.RecoveryTimeout), settings.SuccessThreshold, Round(settings.RateLimitRetryAfter), Round(settings.RequestTimeout)),
            Phases: [.. result.Phases.Select(static p => new PhaseDto(p.Number, p.Key, p.Title, p.Description, Round(p.Start), Round(p.End)))],
            Requests: new RequestsDto(result.Traffic.Requests, result.Traffic.Answered, result.Traffic.FellBack, result.Traffic.Failed, result.Traffic.Unavailable),
            Fallbacks: [.. result.Fallbacks.Select(static f => new FallbackDto(ScenarioSettings.CircuitKey(f.From), ScenarioSettings.CircuitKey(f.To), f.Count, f.SampleAnswer))],
            Circuits: [.. result.Circuits.Select(c => new CircuitDto(
                c.Name,
                c.Model,
                c.Summary.State.ToDisplayName(),
                c.Summary.TotalCalls,
                c.Summary.Successful,
                c.Summary.Failed,
                c.Summary.Rejected,
                c.Summary.Ignored,
                Math.Round(c.Summary.SuccessRate, 4),
                Round(c.Summary.RetryAfter == TimeSpan.MaxValue ? TimeSpan.Zero : c.Summary.RetryAfter),
                c.Summary.StateChanges,
                c.Opened,
                Round(c.LongestOpen),
                c.Recovered))],
            RetryAfter: new RetryAfterDto(
                result.RetryAfter.Circuit,
                Round(result.RetryAfter.ServerRetryAfter),
                Round(result.RetryAfter.RecoveryTimeout),
                result.RetryAfter.OpenFor is { } open ? Round(open) : null,
                result.RetryAfter.Honoured),
            AllClosedAtEnd: result.AllClosed,
            Timeline: [.. result.Timeline.Select(static t => new TransitionDto(Round(t.At), t.Circuit, t.From.ToDisplayName(), t.To.ToDisplayName(), t.Cause, t.FromFleet))],
            Fleet: fleet is null ? null : new FleetDto(
                fleet.Redis,
                fleet.KeyPrefix,
                [.. fleet.Instances.Select(static i => new InstanceDto(
                    i.Instance,
                    i.ProcessId,
                    i.Origin,
                    i.Requests,
                    i.FellBack,
                    i.Failed,
                    i.ExitCode,
                    [.. i.Circuits.Select(static c => new InstanceCircuitDto(
                        c.Circuit,
                        c.FirstOpenAt is { } at ? Round(at) : null,
                        c.FirstOpenAt is null ? null : c.FromFleet ? "fleet" : "own failures",
                        c.FailuresBeforeOpen,
                        c.StateAtEnd?.ToDisplayName()))]))],
                [.. fleet.Propagation.Select(p => new PropagationDto(
                    p.Circuit,
                    p.TrippedBy,
                    Round(p.TrippedAt),
                    p.SeenByAll,
                    fleet.Instances
                        .Select(i => i.Circuits.FirstOrDefault(c => c.Circuit == p.Circuit)?.FirstOpenAt)
                        .Where(static at => at is not null)
                        .Select(at => Round(at!.Value - p.TrippedAt))
                        .DefaultIfEmpty()
                        .Max()))]));
        return JsonSerializer.Serialize(report, s_options);
    }

    private static double Round(TimeSpan span) => Math.Round(span.TotalSeconds, 3);

    private sealed record Report(
        int Seed,
        double DurationSeconds,
        double ElapsedSeconds,
        bool Interrupted,
        int Users,
        string Server,
        string? Dashboard,
        SettingsDto Settings,
        IReadOnlyList<PhaseDto> Phases,
        RequestsDto Requests,
        IReadOnlyList<FallbackDto> Fallbacks,
        IReadOnlyList<CircuitDto> Circuits,
        RetryAfterDto RetryAfter,
        bool AllClosedAtEnd,
        IReadOnlyList<TransitionDto> Timeline,
        FleetDto? Fleet);

    private sealed record SettingsDto(int FailureThreshold, double RecoveryTimeoutSeconds, int SuccessThreshold, double RateLimitRetryAfterSeconds, double RequestTimeoutSeconds);

    private sealed record PhaseDto(int Number, string Key, string Title, string Description, double StartSeconds, double EndSeconds);

    private sealed record RequestsDto(long Total, long Answered, long FellBack, long Failed, long Unavailable);

    private sealed record FallbackDto(string From, string To, int Count, string SampleAnswer);

    private sealed record CircuitDto(
        string Name,
        string Model,
        string State,
        long TotalCalls,
        long Successful,
        long Failed,
        long Rejected,
        long Ignored,
        double SuccessRate,
        double RetryAfterSeconds,
        long StateChanges,
        int Opened,
        double LongestOpenSeconds,
        bool Recovered);

    private sealed record RetryAfterDto(string Circuit, double ServerRetryAfterSeconds, double RecoveryTimeoutSeconds, double? OpenSeconds, bool Honoured);

    private sealed record TransitionDto(double AtSeconds, string Circuit, string From, string To, string Cause, bool FromFleet);

    private sealed record FleetDto(string Redis, string KeyPrefix, IReadOnlyList<InstanceDto> Instances, IReadOnlyList<PropagationDto> Propagation);

    private sealed record InstanceDto(int Instance, int ProcessId, bool Origin, long Requests, long FellBack, long Failed, int? ExitCode, IReadOnlyList<InstanceCircuitDto> Circuits);

    private sealed record InstanceCircuitDto(string Circuit, double? FirstOpenAtSeconds, string? OpenedBy, long FailuresBeforeOpen, string? StateAtEnd);

    private sealed record PropagationDto(string Circuit, int TrippedBy, double TrippedAtSeconds, bool SeenByAll, double SlowestLagSeconds);
}
