using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using Tripswitch.Testing;

namespace Tripswitch.Demo.Tests.Infrastructure;

/// <summary>What a run of the demo left behind.</summary>
internal sealed record DemoRun(int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"exit code {ExitCode}\n--- stdout ---\n{Stdout}\n--- stderr ---\n{Stderr}";
}

/// <summary>Runs the demo as a child process, the way a user does: <c>dotnet Tripswitch.Demo.dll …</c>, output redirected.</summary>
internal static class DemoProcess
{
    /// <summary>Longer than any run the tests ask for (at most ~10 s of scenario plus start-up), short enough to fail a hung run.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(90);

    /// <summary>The demo's assembly in its own output folder (baked in at build time).</summary>
    public static string AssemblyPath { get; } = typeof(DemoProcess).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "DemoAssemblyPath").Value!;

    public static async Task<DemoRun> RunAsync(params string[] args) => await RunAsync(args, DefaultTimeout);

    public static async Task<DemoRun> RunAsync(IReadOnlyList<string> args, TimeSpan timeout, Func<string, Task>? onStdoutLine = null)
    {
        Assert.True(File.Exists(AssemblyPath), $"The demo is not built at {AssemblyPath}.");
        var start = new ProcessStartInfo(DotnetHost())
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        start.ArgumentList.Add(AssemblyPath);
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using Process process = Process.Start(start) ?? throw new InvalidOperationException("The demo did not start.");
        process.StandardInput.Close(); // no keyboard: a CI run
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        Task readOut = Task.Run(async () =>
        {
            while (await process.StandardOutput.ReadLineAsync() is { } line)
            {
                stdout.AppendLine(line);
                if (onStdoutLine is not null)
                {
                    await onStdoutLine(line);
                }
            }
        });
        Task readErr = Task.Run(async () => stderr.Append(await process.StandardError.ReadToEndAsync()));

        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync().Within("the killed demo to exit");
            await Task.WhenAll(readOut, readErr).Within("the killed demo's output to end");
            Assert.Fail($"The demo ({string.Join(' ', args)}) did not finish within {timeout}.\n{new DemoRun(-1, stdout.ToString(), stderr.ToString())}");
        }

        await Task.WhenAll(readOut, readErr).Within("the demo's output to end");
        return new DemoRun(process.ExitCode, stdout.ToString(), stderr.ToString());
    }

    /// <summary>The <c>dotnet</c> host running these tests (so the demo runs on the same runtime).</summary>
    private static string DotnetHost()
    {
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } configured && File.Exists(configured))
        {
            return configured;
        }

        // …/dotnet/shared/Microsoft.NETCore.App/10.0.x/ → …/dotnet/dotnet
        string root = Path.GetFullPath(Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", ".."));
        string candidate = Path.Combine(root, OperatingSystem.IsWindows() ? "dotnet.exe" : "dotnet");
        return File.Exists(candidate) ? candidate : "dotnet";
    }
}
