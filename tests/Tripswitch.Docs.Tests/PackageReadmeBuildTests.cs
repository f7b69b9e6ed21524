namespace Tripswitch.Docs.Tests;

/// <summary>
/// Each package README stands alone: every C# block compiles in an app that has only that package and the packages the
/// block names on its first line (see <see cref="PackageSnippets"/>), so a block that uses a package it doesn't name,
/// or leaves out a using, fails here naming the README and the block.
/// </summary>
[Collection(DotnetBuild.Collection)]
public class PackageReadmeBuildTests
{
    /// <summary>Generous: on a busy 2-core machine, the packages and a dozen small projects take minutes.</summary>
    private static readonly TimeSpan BuildTimeout = TimeSpan.FromMinutes(8);

    private static string Root(string name) => Path.Combine(MarkdownSnippets.RepositoryRoot, "artifacts", name);

    [Fact]
    public async Task EveryPackageReadmeBlock_CompilesWithOnlyThePackagesItNames()
    {
        (IReadOnlyList<PackageBlock> blocks, IReadOnlyList<string> problems) = PackageSnippets.Collect();
        Assert.True(problems.Count == 0, string.Join("\n", problems));
        // Guards the collection itself: finding no blocks would make this test pass vacuously.
        Assert.True(blocks.Count >= 10, $"only {blocks.Count} package README blocks found");
        Assert.True(blocks.Select(b => b.Package).Distinct().Count() >= 7, "every package README (core, Http, Hosting, AI, Polly, Redis, Dashboard) has blocks");

        IReadOnlyList<string> failures = await BuildAsync(Root("docs-package-snippets"), blocks);

        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public async Task ABlockUsingAPackageItDoesntName_FailsNamingTheReadmeAndTheBlock()
    {
        string root = Root("docs-package-snippets-probe");
        Directory.CreateDirectory(root);
        string source = Path.Combine(root, "Probe.cs");
        await File.WriteAllTextAsync(
            source,
            """
            namespace Docs.Snippets.Probe;

            internal static class Probe
            {
                public static void Run(string[] args)
                {
                    var builder = WebApplication.CreateBuilder(args);
                    builder.Services.AddTripswitch(builder.Configuration.GetSection("Tripswitch"));
                    builder.Services.AddHttpClient("inventory").AddCircuitBreakerHandler();
                }
            }
            """,
            TestContext.Current.CancellationToken);
        // The same code twice: without Tripswitch.Hosting named, AddTripswitch doesn't exist; with it, the code compiles.
        var unnamed = new PackageBlock("src/Tripswitch.Http/README.md", 12, "probe-unnamed", "Tripswitch.Http", source, [], AspNetCoreApp: true);
        var named = new PackageBlock("src/Tripswitch.Http/README.md", 30, "probe-named", "Tripswitch.Http", source, ["Tripswitch.Hosting"], AspNetCoreApp: true);

        IReadOnlyList<string> failures = await BuildAsync(root, [unnamed, named]);

        string failure = Assert.Single(failures);
        Assert.StartsWith("src/Tripswitch.Http/README.md:12: block 'probe-unnamed' doesn't compile in an app with only Tripswitch.Http", failure, StringComparison.Ordinal);
        Assert.Contains("CS1061", failure, StringComparison.Ordinal);
        Assert.Contains("AddTripswitch", failure, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("using Tripswitch;", true, "", false)]
    [InlineData("// packages: Tripswitch.Redis", true, "Tripswitch.Redis", false)]
    [InlineData("// packages: Tripswitch.Http, Tripswitch.Hosting (an ASP.NET Core app)", true, "Tripswitch.Http|Tripswitch.Hosting", true)]
    [InlineData("// packages: Tripswitch.Http and Tripswitch.Hosting", false, "", false)]
    [InlineData("// packages:", false, "", false)]
    public void ThePackagesLine_IsRead(string line, bool valid, string packages, bool web)
    {
        bool ok = PackageSnippets.TryReadPackagesLine(line, out IReadOnlyList<string> read, out bool aspNetCoreApp);

        Assert.Equal(valid, ok);
        Assert.Equal(packages, string.Join('|', read));
        Assert.Equal(web, aspNetCoreApp);
    }

    /// <summary>Builds the blocks' projects; one message per block that doesn't compile (and one for any other build failure).</summary>
    private static async Task<IReadOnlyList<string>> BuildAsync(string root, IReadOnlyList<PackageBlock> blocks)
    {
        (string solution, IReadOnlyList<string> problems) = PackageSnippets.Write(root, blocks);
        if (problems.Count > 0)
        {
            return problems;
        }

        (int exitCode, string output) = await DotnetBuild.RunAsync(solution, BuildTimeout);
        IReadOnlyDictionary<string, IReadOnlyList<string>> errors = PackageSnippets.ErrorsByBlock(output, blocks);
        var failures = new List<string>();
        foreach (PackageBlock block in blocks)
        {
            if (errors.TryGetValue(block.Name, out IReadOnlyList<string>? lines))
            {
                failures.Add($"{block.Where} doesn't compile in an app with only {string.Join(", ", block.Packages)}"
                    + $"{(block.AspNetCoreApp ? " (an ASP.NET Core app)" : string.Empty)}: name every package it uses on its first line (`{PackageSnippets.PackagesPrefix} ...`) and every using it needs.\n  "
                    + string.Join("\n  ", lines.Take(10)));
            }
        }

        if (exitCode != 0 && failures.Count == 0)
        {
            failures.Add($"dotnet build of {solution} failed (exit code {exitCode}):\n{string.Join('\n', errors.Values.SelectMany(l => l).DefaultIfEmpty(output).Take(20))}");
        }

        return failures;
    }
}
