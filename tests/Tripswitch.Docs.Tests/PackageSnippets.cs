using System.Globalization;
using System.Security;
using System.Text;
using System.Text.RegularExpressions;

namespace Tripswitch.Docs.Tests;

/// <summary>
/// A C# block of a package's README, as that package's user meets it: <paramref name="Package"/> installed, plus the
/// packages the block's first line names (<c>// packages: Tripswitch.Http, Tripswitch.Hosting (an ASP.NET Core app)</c>).
/// </summary>
/// <param name="SourceFile">The file under docs/snippets that holds the block's regions and nothing else.</param>
/// <param name="AspNetCoreApp">The first line says the block is an ASP.NET Core app (the web SDK); otherwise a plain app.</param>
public sealed record PackageBlock(string Readme, int Line, string Name, string Package, string SourceFile, IReadOnlyList<string> NamedPackages, bool AspNetCoreApp)
{
    /// <summary>What the block's app references: its package and the ones it names.</summary>
    public IReadOnlyList<string> Packages => [Package, .. NamedPackages.Where(p => p != Package)];

    public string Where => $"{Readme}:{Line}: block '{Name}'";
}

/// <summary>
/// Compiles each package README's blocks as that package's user would: one generated project per block whose only
/// references are the package and the packages the block names (a Tripswitch package as a ProjectReference to
/// src/, any other by its central version), with a plain or web app's implicit usings. All of them are built by one
/// <c>dotnet build</c> of a generated solution, under artifacts/ (ignored by git, inside the repository so
/// Directory.Build.props and Directory.Packages.props apply: warnings are errors, versions are the repository's).
/// </summary>
public static partial class PackageSnippets
{
    public const string PackagesPrefix = "// packages:";

    /// <summary>The package README blocks, and what is wrong with how they are marked (a block that can't be compiled alone).</summary>
    public static (IReadOnlyList<PackageBlock> Blocks, IReadOnlyList<string> Problems) Collect()
    {
        var blocks = new List<PackageBlock>();
        var problems = new List<string>();
        IReadOnlyDictionary<string, IReadOnlyList<string>> regionFiles = MarkdownSnippets.RegionFiles();
        foreach (string readme in MarkdownSnippets.Readmes().Where(r => r.StartsWith("src/", StringComparison.Ordinal)))
        {
            string package = readme.Split('/')[1];
            foreach (CodeBlock block in MarkdownSnippets.Blocks(readme).Where(b => b.Name is not null))
            {
                string where = $"{readme}:{block.Line}: block '{block.Name}'";
                if (!regionFiles.TryGetValue(block.Name!, out IReadOnlyList<string>? files))
                {
                    continue; // ReadmeSnippetTests reports a block without a region
                }

                if (files.Count != 1 || MarkdownSnippets.RegionNames(files[0]).Count != 1)
                {
                    problems.Add($"{where}: its regions must be the only ones of one file under docs/snippets, so that file compiles as the block alone (found in {string.Join(", ", files.Select(f => Path.GetRelativePath(MarkdownSnippets.RepositoryRoot, f)))}).");
                    continue;
                }

                string firstLine = block.Text.Split('\n')[0];
                if (!TryReadPackagesLine(firstLine, out IReadOnlyList<string> named, out bool web))
                {
                    problems.Add($"{where}: its first line `{firstLine}` starts like a packages line but isn't one; write `{PackagesPrefix} Tripswitch.Http, Tripswitch.Hosting` (and ` (an ASP.NET Core app)` for a web app).");
                    continue;
                }

                blocks.Add(new PackageBlock(readme, block.Line, block.Name!, package, files[0], named, web));
            }
        }

        return (blocks, problems);
    }

    /// <summary>
    /// Reads a block's first line: <c>// packages: A, B</c>, optionally followed by <c> (an ASP.NET Core app)</c>. A line
    /// that isn't a packages line at all names nothing (true); one that starts like it but is malformed is refused (false).
    /// </summary>
    public static bool TryReadPackagesLine(string line, out IReadOnlyList<string> packages, out bool aspNetCoreApp)
    {
        packages = [];
        aspNetCoreApp = false;
        if (!line.StartsWith(PackagesPrefix, StringComparison.Ordinal))
        {
            return true;
        }

        Match m = PackagesLineRegex().Match(line);
        if (!m.Success)
        {
            return false;
        }

        packages = [.. m.Groups["names"].Value.Split(", ")];
        aspNetCoreApp = m.Groups["web"].Success;
        return true;
    }

    /// <summary>
    /// Writes one project per block under <paramref name="root"/> and a solution of them all; returns the solution's
    /// path, or the problems that stop a block's project being written (a package that doesn't exist).
    /// </summary>
    public static (string Solution, IReadOnlyList<string> Problems) Write(string root, IEnumerable<PackageBlock> blocks)
    {
        string repository = MarkdownSnippets.RepositoryRoot;
        string centralVersions = File.ReadAllText(Path.Combine(repository, "Directory.Packages.props"));
        string noWarn = NoWarnRegex().Match(File.ReadAllText(Path.Combine(repository, MarkdownSnippets.SnippetsFolder, "Tripswitch.Docs.Snippets.csproj"))).Groups[1].Value;
        var problems = new List<string>();
        var solution = new StringBuilder("<Solution>\n");
        Directory.CreateDirectory(root);
        foreach (PackageBlock block in blocks)
        {
            var references = new StringBuilder();
            foreach (string package in block.Packages)
            {
                string project = Path.Combine(repository, "src", package, $"{package}.csproj");
                if (package.StartsWith("Tripswitch", StringComparison.Ordinal) && File.Exists(project))
                {
                    references.Append(CultureInfo.InvariantCulture, $"    <ProjectReference Include=\"{SecurityElement.Escape(project)}\" />\n");
                }
                else if (!package.StartsWith("Tripswitch", StringComparison.Ordinal) && centralVersions.Contains($"Include=\"{package}\"", StringComparison.Ordinal))
                {
                    references.Append(CultureInfo.InvariantCulture, $"    <PackageReference Include=\"{SecurityElement.Escape(package)}\" />\n");
                }
                else
                {
                    problems.Add($"{block.Where}: names the package '{package}', which is neither a project under src/ nor a package with a version in Directory.Packages.props.");
                }
            }

            string folder = Path.Combine(root, block.Name);
            Directory.CreateDirectory(folder);
            File.WriteAllText(Path.Combine(folder, $"{block.Name}.csproj"), $"""
                <!-- Generated by tests/Tripswitch.Docs.Tests for {block.Where}: the app of a user with only {string.Join(", ", block.Packages)}. -->
                <Project Sdk="{(block.AspNetCoreApp ? "Microsoft.NET.Sdk.Web" : "Microsoft.NET.Sdk")}">
                  <PropertyGroup>
                    <OutputType>Library</OutputType>
                    <IsPackable>false</IsPackable>
                    <EnableDefaultCompileItems>false</EnableDefaultCompileItems>
                    <NoWarn>{noWarn}</NoWarn>
                  </PropertyGroup>
                  <ItemGroup>
                    <Compile Include="{SecurityElement.Escape(block.SourceFile)}" />
                  </ItemGroup>
                  <ItemGroup>
                {references}  </ItemGroup>
                </Project>
                """);
            solution.Append(CultureInfo.InvariantCulture, $"  <Project Path=\"{block.Name}/{block.Name}.csproj\" />\n");
        }

        string path = Path.Combine(root, "PackageSnippets.slnx");
        File.WriteAllText(path, solution.Append("</Solution>\n").ToString());
        return (path, problems);
    }

    /// <summary>Each block whose project reported errors, with them; errors no block's project reported go under the empty name.</summary>
    public static IReadOnlyDictionary<string, IReadOnlyList<string>> ErrorsByBlock(string output, IEnumerable<PackageBlock> blocks)
    {
        var names = blocks.Select(b => b.Name).ToList();
        return DotnetBuild.Errors(output)
            .GroupBy(line => names.FirstOrDefault(n => line.EndsWith($"{Path.DirectorySeparatorChar}{n}.csproj]", StringComparison.Ordinal)) ?? string.Empty)
            .ToDictionary(g => g.Key, g => (IReadOnlyList<string>)g.ToList(), StringComparer.Ordinal);
    }

    [GeneratedRegex(@"^// packages: (?<names>[\w.]+(?:, [\w.]+)*)(?<web> \(an ASP\.NET Core app\))?$")]
    private static partial Regex PackagesLineRegex();

    [GeneratedRegex(@"<NoWarn>([^<]*)</NoWarn>")]
    private static partial Regex NoWarnRegex();
}
