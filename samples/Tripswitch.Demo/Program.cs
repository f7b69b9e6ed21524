using System.Text;
using Tripswitch.Demo;

// Exit codes: 0 the run completed, 1 it could not run (e.g. Redis unreachable), 2 bad command line, 130 Ctrl+C.
Console.OutputEncoding = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false);

var commandLine = new DemoCommandLine();
DemoOptions? options = commandLine.Parse(args, out string? error, out bool help);
if (help)
{
    commandLine.WriteHelp(Console.Out);
    return 0;
}

if (options is null)
{
    await Console.Error.WriteLineAsync($"tripswitch-demo: {error}");
    await Console.Error.WriteLineAsync();
    commandLine.WriteHelp(Console.Error);
    return 2;
}

using var interrupted = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    interrupted.Cancel();
};

try
{
    return options.Mode switch
    {
        DemoMode.Exercise => await RunExerciseAsync(options.EffectiveSeed, interrupted.Token),
        DemoMode.FleetMember => await FleetMember.RunAsync(options, interrupted.Token),
        _ => await ScenarioProgram.RunAsync(options, interrupted.Token),
    };
}
catch (OperationCanceledException) when (interrupted.IsCancellationRequested)
{
    // Ctrl+C before the run had started (while the servers were starting).
    await Console.Error.WriteLineAsync("tripswitch-demo: interrupted.");
    return 130;
}

// v1 of the demo, the seed's hands-on exercise: one circuit in front of a flaky HTTP server, plain text.
static async Task<int> RunExerciseAsync(int seed, CancellationToken interrupted)
{
    var exercise = new HandsOnExercise(new ExerciseSettings { Seed = seed }, new PlainTextReporter(Console.Out));
    ExerciseResult result = await exercise.RunAsync(interrupted);
    return result.Interrupted ? 130 : 0;
}
