using Spectre.Console;
using StackExchange.Redis;

namespace Tripswitch.Demo;

/// <summary>The live scenario with its options: the view (live or plain), JSON, the dashboard, a Redis fleet.</summary>
internal static class ScenarioProgram
{
    private static readonly TimeSpan s_fleetFinishTimeout = TimeSpan.FromSeconds(30);

    public static async Task<int> RunAsync(DemoOptions options, CancellationToken interrupted)
    {
        // A live view needs a terminal; a pipe or CI gets plain lines. With --json, stdout carries only the JSON and
        // the plain lines go to stderr.
        bool live = !options.Json && !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;
        TextWriter lines = options.Json ? Console.Error : Console.Out;

        var settings = new ScenarioSettings { Seed = options.EffectiveSeed, Duration = options.Duration };
        await using var scenario = new LiveScenario(settings);
        LiveTerminalView? view = live ? new LiveTerminalView(AnsiConsole.Console, scenario) : null;
        PlainScenarioView? plain = live ? null : new PlainScenarioView(lines);
        scenario.Observer = (IScenarioObserver?)view ?? plain!;
        IFleetObserver fleetObserver = (IFleetObserver?)view ?? plain!;

        await scenario.PrepareAsync(interrupted);

        await using DashboardHost? dashboard = options.Dashboard ? await DashboardHost.StartAsync(scenario.Registry, interrupted) : null;
        if (dashboard is not null)
        {
            if (view is not null)
            {
                view.DashboardUrl = dashboard.Url;
            }
            else
            {
                plain!.Notes.Add($"Dashboard: {dashboard.Url} (JSON: {dashboard.Url}/status)");
            }
        }

        RedisFleet? redis = null;
        FleetLauncher? launcher = null;
        string? keyPrefix = null;
        try
        {
            if (options.Redis is { } connection)
            {
                keyPrefix = $"tripswitch-demo:{Guid.NewGuid().ToString("N")[..12]}:";
                try
                {
                    redis = await RedisFleet.ConnectAsync(connection, keyPrefix, scenario.Registry);
                }
                catch (RedisConnectionException e)
                {
                    await Console.Error.WriteLineAsync($"tripswitch-demo: cannot reach Redis at {connection}: {e.Message}");
                    return 1;
                }

                scenario.SharedWithFleet = true;
                string description = options.Instances > 1
                    ? $"{options.Instances} instances share their circuits through Redis {connection}; only this one's models fail"
                    : $"circuits shared through Redis {connection} (key prefix {keyPrefix})";
                if (view is not null)
                {
                    view.FleetDescription = description;
                }
                else
                {
                    plain!.Notes.Add($"Fleet: {description}");
                }

                if (options.Instances > 1)
                {
                    plain?.WriteHeader(settings, scenario.ServerEndpoint);
                    if (view is not null)
                    {
                        AnsiConsole.MarkupLine(Format.Invariant($"[grey]Starting {options.Instances - 1} more instance(s) of the demo and waiting until they have joined the fleet…[/]"));
                    }

                    try
                    {
                        launcher = await FleetLauncher.StartAsync(options, keyPrefix, fleetObserver, interrupted);
                    }
                    catch (InvalidOperationException e)
                    {
                        await Console.Error.WriteLineAsync($"tripswitch-demo: the fleet did not start: {e.Message}");
                        return 1;
                    }

                    if (view is not null)
                    {
                        view.Fleet = launcher;
                    }
                }
            }

            DateTimeOffset startedAt = TimeProvider.System.GetUtcNow();
            if (launcher is not null)
            {
                await launcher.StartScenarioAsync(startedAt);
            }

            ScenarioResult result = view is not null
                ? await view.RunAsync(() => scenario.RunAsync(interrupted, startedAt))
                : await scenario.RunAsync(interrupted, startedAt);

            FleetReport? fleet = null;
            if (launcher is not null)
            {
                if (!result.Interrupted)
                {
                    await launcher.FinishAsync(s_fleetFinishTimeout); // their runs end with this one's
                }

                fleet = FleetReports.Build(options.Redis!, keyPrefix!, result, launcher.Members);
            }
            else if (redis is not null)
            {
                fleet = FleetReports.Build(options.Redis!, keyPrefix!, result, []);
            }

            view?.WriteSummary(result, fleet);
            plain?.WriteSummary(result, fleet);
            if (options.Json)
            {
                await Console.Out.WriteLineAsync(JsonReport.Write(result, fleet, dashboard?.Url));
            }

            if (dashboard is not null && !result.Interrupted && !Console.IsInputRedirected && !Console.IsOutputRedirected)
            {
                await WaitForEnterAsync(dashboard, interrupted);
            }

            return result.Interrupted ? 130 : 0;
        }
        finally
        {
            if (launcher is not null)
            {
                await launcher.DisposeAsync();
            }

            if (redis is not null)
            {
                await redis.DisposeAsync();
            }
        }
    }

    /// <summary>Keeps the dashboard up until Enter or Ctrl+C, so the page can be looked at after the run.</summary>
    private static async Task WaitForEnterAsync(DashboardHost dashboard, CancellationToken interrupted)
    {
        AnsiConsole.MarkupLine($"The dashboard is still at [link]{Markup.Escape(dashboard.Url.ToString())}[/]. Press [bold]Enter[/] (or Ctrl+C) to exit.");
        Task<string?> enter = Task.Run(Console.ReadLine, CancellationToken.None);
        try
        {
            await enter.WaitAsync(interrupted);
        }
        catch (OperationCanceledException) when (interrupted.IsCancellationRequested)
        {
            // Ctrl+C: exit as asked.
        }
    }
}
