namespace Tripswitch.Gateway.Tests.Soak;

/// <summary>
/// The soak's clients: each loops until the deadline (and at most <see cref="MaxRequestsPerClientPerSecond"/> requests a
/// second of the run), alternating between the gateways, choosing a model, streaming or not and what to do with the
/// answer at random, with a short pause between two requests. Every request's outcome goes to the tally.
/// </summary>
internal static class SoakTraffic
{
    public static readonly string[] Models = ["gpt-4.1", "gpt-4.1-mini", "gpt-4o-mini"];

    private const int MaxRequestsPerClientPerSecond = 50;

    /// <summary>Runs <paramref name="clients"/> clients for <paramref name="duration"/>; completes when every request has ended.</summary>
    public static Task RunAsync(HttpClient http, IReadOnlyList<Uri> gateways, int clients, TimeSpan duration, SoakTally tally, SoakFaults faults, SoakUpstream upstream, CancellationToken stop)
    {
        long deadline = TimeProvider.System.GetTimestamp() + (long)(duration.TotalSeconds * TimeProvider.System.TimestampFrequency);
        int maxRequests = (int)Math.Ceiling(duration.TotalSeconds * MaxRequestsPerClientPerSecond);
        return Task.WhenAll(Enumerable.Range(0, clients).Select(client => Task.Run(() => ClientAsync(http, gateways, client, deadline, maxRequests, tally, faults, upstream, stop), stop)));
    }

    private static async Task ClientAsync(HttpClient http, IReadOnlyList<Uri> gateways, int client, long deadline, int maxRequests, SoakTally tally, SoakFaults faults, SoakUpstream upstream, CancellationToken stop)
    {
        for (int i = 0; i < maxRequests && TimeProvider.System.GetTimestamp() < deadline; i++)
        {
            Uri gateway = gateways[(client + i) % gateways.Count];
            string model = Models[Random.Shared.Next(Models.Length)];
            bool stream = Random.Shared.Next(2) == 0;
            int draw = Random.Shared.Next(100);
            ClientPlan plan = draw < 8 ? ClientPlan.CancelEarly : stream && draw < 20 ? ClientPlan.LeaveMidStream : ClientPlan.ReadAll;
            long started = TimeProvider.System.GetTimestamp();
            string id = Guid.NewGuid().ToString("N");
            (SoakOutcome outcome, int status, string? finding) = await SoakClient.SendAsync(http, gateway, model, stream, plan, id, stop);
            if (outcome == SoakOutcome.Unanswered && status == 0 && finding?.Contains("no response from the gateway", StringComparison.Ordinal) == true
                && (upstream.Cut(id) || faults.UpstreamKilledBetween(started, TimeProvider.System.GetTimestamp())))
            {
                (outcome, finding) = (SoakOutcome.ResetByUpstreamKill, null);
            }

            tally.Add(outcome, status, finding is null ? null : $"{gateway.Authority} {finding}");
            await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(10, 40)), stop);
        }
    }
}
