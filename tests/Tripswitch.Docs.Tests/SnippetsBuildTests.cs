namespace Tripswitch.Docs.Tests;

/// <summary>
/// The docs tests build docs/snippets themselves: a README block is the text of a region there (see
/// <see cref="ReadmeSnippetTests"/>), so a block that calls a method that doesn't exist fails here, not only when
/// someone happens to build the whole solution.
/// </summary>
[Collection(DotnetBuild.Collection)]
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

    private static string Errors(string output) => string.Join('\n', DotnetBuild.Errors(output).Take(20));

    private static Task<(int ExitCode, string Output)> BuildAsync(string? extraSnippet)
        => DotnetBuild.RunAsync(Project, BuildTimeout, new Dictionary<string, string> { ["TRIPSWITCH_EXTRA_SNIPPET"] = extraSnippet ?? string.Empty });
}
