using System.Globalization;
using StackExchange.Redis;

namespace Tripswitch.Demo;

/// <summary>
/// A fleet's member (instances 2..N, started by the first one with <c>--fleet-member</c>): the same scenario with its
/// own FakeLlm, whose models stay healthy, and its circuits shared through Redis. It speaks only
/// <see cref="FleetProtocol"/> on its standard output; errors go to standard error.
/// </summary>
internal static class FleetMember
{
    private static readonly TimeSpan s_statusInterval = TimeSpan.FromMilliseconds(500);

    public static async Task<int> RunAsync(DemoOptions options, CancellationToken interrupted)
    {
        var settings = new ScenarioSettings
        {
            Seed = options.EffectiveSeed,
            Duration = options.Duration,
            ScriptFailures = false,
            Instance = options.Instance,
        };
        TextWriter output = Console.Out;
        var writer = new ProtocolWriter(output);
        await using var scenario = new LiveScenario(settings) { SharedWithFleet = true, Observer = writer };
        await scenario.PrepareAsync(interrupted);

        RedisFleet fleet;
        try
        {
            fleet = await RedisFleet.ConnectAsync(options.Redis!, options.FleetPrefix!, scenario.Registry);
        }
        catch (RedisConnectionException e)
        {
            await Console.Error.WriteLineAsync($"tripswitch-demo (instance {options.Instance}): cannot reach Redis at {options.Redis}: {e.Message}");
            return 1;
        }

        await using (fleet)
        {
            writer.Send(FleetProtocol.Ready, new ReadyMessage(Environment.ProcessId, scenario.ServerEndpoint.ToString()));

            // Wait for the first instance's word; no word (its standard input closed) means it is gone.
            string? line = await Console.In.ReadLineAsync(interrupted);
            (string kind, string payload) = line is null ? (string.Empty, string.Empty) : FleetProtocol.Split(line);
            if (kind != FleetProtocol.Start || !long.TryParse(payload, NumberStyles.None, CultureInfo.InvariantCulture, out long startMs))
            {
                await Console.Error.WriteLineAsync($"tripswitch-demo (instance {options.Instance}): expected '{FleetProtocol.Start} <unix ms>' on standard input, got '{line}'.");
                return 1;
            }

            // From now on, the end of standard input means the first instance is gone: stop.
            using var parentGone = CancellationTokenSource.CreateLinkedTokenSource(interrupted);
            _ = Task.Run(
                () =>
                {
                    while (Console.In.ReadLine() is not null)
                    {
                    }

                    parentGone.Cancel();
                },
                CancellationToken.None);

            using var statusTimer = new PeriodicTimer(s_statusInterval);
            Task status = SendStatusAsync(statusTimer, writer, scenario);
            ScenarioResult result = await scenario.RunAsync(parentGone.Token, DateTimeOffset.FromUnixTimeMilliseconds(startMs));
            statusTimer.Dispose();
            await status;

            writer.Send(FleetProtocol.Result, new ResultMessage(
                result.Traffic.Requests,
                result.Traffic.FellBack,
                result.Traffic.Failed,
                [.. result.Circuits.Select(static c => new CircuitEnd(c.Name, c.Summary.State, c.Summary.Successful, c.Summary.Failed, c.Summary.Rejected))]));
            return result.Interrupted ? 130 : 0;
        }
    }

    private static async Task SendStatusAsync(PeriodicTimer timer, ProtocolWriter writer, LiveScenario scenario)
    {
        while (await timer.WaitForNextTickAsync())
        {
            TrafficTotals traffic = scenario.Traffic;
            var circuits = ScenarioSettings.Models
                .Select(ScenarioSettings.CircuitKey)
                .ToDictionary(static key => key, key => scenario.Registry.Get(key).State, StringComparer.Ordinal);
            writer.Send(FleetProtocol.Status, new StatusMessage(traffic.Requests, traffic.FellBack, traffic.Failed, circuits));
        }
    }

    /// <summary>Writes the protocol's lines; transitions are sent as they happen.</summary>
    private sealed class ProtocolWriter(TextWriter output) : IScenarioObserver
    {
        private readonly Lock _sync = new();

        public void Send<T>(string kind, T payload)
        {
            string line = FleetProtocol.Line(kind, payload);
            lock (_sync)
            {
                output.WriteLine(line);
                output.Flush();
            }
        }

        public void Started(ScenarioStart start)
        {
        }

        public void PhaseStarted(ScenarioPhase phase, TimeSpan at)
        {
        }

        public void StateChanged(TransitionRecord transition)
            => Send(FleetProtocol.Transition, new TransitionMessage(
                transition.Circuit, transition.From, transition.To, transition.At.TotalSeconds, transition.Cause, transition.FromFleet, transition.LocalFailures));

        public void RequestCompleted(RequestRecord request)
        {
        }

        public void Finished(ScenarioResult result)
        {
        }
    }
}
