using System.Diagnostics;
using System.Reflection;

namespace Tripswitch.Docs.Tests;

/// <summary>
/// Runs <c>dotnet build</c> from the repository root in this test assembly's configuration. No build server or node
/// stays behind (it would hold the output pipes open); a build past <paramref name="timeout"/> is killed and throws.
/// </summary>
internal static class DotnetBuild
{
    /// <summary>The tests that start a build are in this collection, so two builds never write the same obj folders at once.</summary>
    public const string Collection = "dotnet build";

    public static string Configuration { get; } =
        typeof(DotnetBuild).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";

    public static async Task<(int ExitCode, string Output)> RunAsync(string project, TimeSpan timeout, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = MarkdownSnippets.RepositoryRoot,
        };
        foreach (string arg in new[] { "build", project, "-c", Configuration, "-nologo", "-nodeReuse:false", "-p:UseSharedCompilation=false", "-clp:NoSummary" })
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["DOTNET_CLI_UI_LANGUAGE"] = "en";
        foreach ((string name, string value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        deadline.CancelAfter(timeout);
        using Process process = Process.Start(start) ?? throw new InvalidOperationException("dotnet didn't start.");
        Task<string> stdout = process.StandardOutput.ReadToEndAsync(deadline.Token);
        Task<string> stderr = process.StandardError.ReadToEndAsync(deadline.Token);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"dotnet build of {project} took more than {timeout.TotalMinutes} minutes.");
        }

        return (process.ExitCode, await stdout + await stderr);
    }

    /// <summary>The distinct error lines of a build's output.</summary>
    public static IEnumerable<string> Errors(string output)
        => output.Split('\n').Select(l => l.Trim()).Where(l => l.Contains(" error ", StringComparison.Ordinal)).Distinct();
}
