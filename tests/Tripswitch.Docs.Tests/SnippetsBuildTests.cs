using System.Diagnostics;
using System.Reflection;

namespace Tripswitch.Docs.Tests;

/// <summary>
/// The docs tests build docs/snippets themselves: a README block is the text of a region there (see
/// <see cref="ReadmeSnippetTests"/>), so a block that calls a method that doesn't exist fails here, not only when
/// someone happens to build the whole solution.
/// </summary>
public class SnippetsBuildTests
{
    /// <summary>Generous: on a busy 2-core machine a build of the snippets and the packages they use takes minutes.</summary>
    private static readonly TimeSpan BuildTimeout = TimeSpan.FromMinutes(8);

    private static string Project => Path.Combine(MarkdownSnippets.RepositoryRoot, "docs", "snippets", "Tripswitch.Docs.Snippets.csproj");

    [Fact]
    public async Task TheSnippets_Build()
    {
        (int exitCode, string output) = await BuildAsync(extraSnippet: null);

        Assert.True(exitCode == 0, $"docs/snippets doesn't build (exit code {exitCode}): a README block doesn't compile.\n{Errors(output)}");
    }

    [Fact]
    public async Task ABlockCallingAMissingMethod_FailsTheBuild_NamingIt()
    {
        string file = Path.Combine(Path.GetTempPath(), $"tripswitch-snippet-{Guid.NewGuid():N}.cs");
        await File.WriteAllTextAsync(
            file,
            """
            namespace Tripswitch.Docs.Snippets.Probe;

            internal static class MissingMethod
            {
                #region probe-missing-method
                public static void Show() => new Tripswitch.CircuitBreaker().ExecuteTwiceAndHope(() => { });
                #endregion
            }
            """,
            TestContext.Current.CancellationToken);
        try
        {
            (int exitCode, string output) = await BuildAsync(file);

            Assert.NotEqual(0, exitCode);
            Assert.Contains("CS1061", output, StringComparison.Ordinal);
            Assert.Contains("ExecuteTwiceAndHope", output, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    private static string Errors(string output)
        => string.Join('\n', output.Split('\n').Where(line => line.Contains(" error ", StringComparison.Ordinal)).Distinct().Take(20));

    /// <summary>
    /// <c>dotnet build</c> of the snippets project in this test assembly's configuration. No build server or node stays
    /// behind (it would hold the output pipes open); a build past <see cref="BuildTimeout"/> is killed and fails the test.
    /// </summary>
    private static async Task<(int ExitCode, string Output)> BuildAsync(string? extraSnippet)
    {
        string configuration = typeof(SnippetsBuildTests).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = MarkdownSnippets.RepositoryRoot,
        };
        foreach (string arg in new[] { "build", Project, "-c", configuration, "-nologo", "-nodeReuse:false", "-p:UseSharedCompilation=false", "-clp:NoSummary" })
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["DOTNET_CLI_UI_LANGUAGE"] = "en";
        start.Environment["TRIPSWITCH_EXTRA_SNIPPET"] = extraSnippet ?? string.Empty;

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        deadline.CancelAfter(BuildTimeout);
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
            throw new TimeoutException($"dotnet build of docs/snippets took more than {BuildTimeout.TotalMinutes} minutes.");
        }

        return (process.ExitCode, await stdout + await stderr);
    }
}
