using System.Text;
using Tripswitch.Demo;

// Exit codes: 0 the run completed, 2 bad command line, 130 interrupted with Ctrl+C.
Console.OutputEncoding = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false);

DemoArguments? arguments = DemoArguments.Parse(args, out string? error);
if (arguments is null)
{
    await Console.Error.WriteLineAsync($"tripswitch-demo: {error}");
    await Console.Error.WriteLineAsync();
    await Console.Error.WriteLineAsync(DemoArguments.Usage);
    return 2;
}

if (arguments.ShowHelp)
{
    Console.WriteLine(DemoArguments.Usage);
    return 0;
}

using var interrupted = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    interrupted.Cancel();
};

var settings = new ExerciseSettings { Seed = arguments.Seed };
var exercise = new HandsOnExercise(settings, new PlainTextReporter(Console.Out));
try
{
    ExerciseResult result = await exercise.RunAsync(interrupted.Token);
    return result.Interrupted ? 130 : 0;
}
catch (OperationCanceledException) when (interrupted.IsCancellationRequested)
{
    // Ctrl+C before the first call (while the server was starting).
    await Console.Error.WriteLineAsync("tripswitch-demo: interrupted.");
    return 130;
}
