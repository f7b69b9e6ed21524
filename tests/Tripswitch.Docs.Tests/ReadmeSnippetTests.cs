namespace Tripswitch.Docs.Tests;

/// <summary>
/// Every C# block of README.md and of the packages' READMEs is compiled: it is the text of a named region of
/// docs/snippets (built with the solution), marked in the README by an HTML comment <c>snippet: name</c>.
/// </summary>
public class ReadmeSnippetTests
{
    private const string HowTo =
        "Put the code in a `#region <name>` of a file under docs/snippets (the compiled Tripswitch.Docs.Snippets project; " +
        "a block's using directives go in a region of the same name at the top of that file), and put " +
        "`<!-- snippet: <name> -->` on the line before the block.";

    public static TheoryData<string> ReadmeFiles() => [.. MarkdownSnippets.Readmes()];

    [Theory]
    [MemberData(nameof(ReadmeFiles))]
    public void EveryCSharpBlock_IsTheTextOfItsCompiledRegion(string readme)
    {
        IReadOnlyDictionary<string, string> regions = MarkdownSnippets.Regions();
        var problems = new List<string>();
        foreach (CodeBlock block in MarkdownSnippets.Blocks(readme))
        {
            if (block.Name is null)
            {
                problems.Add($"{block.File}:{block.Line}: a C# block without a snippet marker. {HowTo}");
            }
            else if (!regions.TryGetValue(block.Name, out string? region))
            {
                problems.Add($"{block.File}:{block.Line}: snippet '{block.Name}' has no `#region {block.Name}` under docs/snippets. {HowTo}");
            }
            else if (FirstDifference(block.Text, region) is { } difference)
            {
                problems.Add($"{block.File}:{block.Line}: snippet '{block.Name}' differs from its compiled region: {difference}. Edit both, or copy the region into the README.");
            }
        }

        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public void EveryRegion_IsShownInAReadme_AndEachNameOnce()
    {
        var shown = MarkdownSnippets.Readmes().SelectMany(MarkdownSnippets.Blocks).Where(b => b.Name is not null).ToList();
        IEnumerable<string> twice = shown.GroupBy(b => b.Name!).Where(g => g.Count() > 1).Select(g => $"'{g.Key}' ({string.Join(", ", g.Select(b => $"{b.File}:{b.Line}"))})");
        IEnumerable<string> unused = MarkdownSnippets.Regions().Keys.Except(shown.Select(b => b.Name!)).Order(StringComparer.Ordinal);

        Assert.True(!twice.Any(), $"A snippet shown twice (one name per block): {string.Join("; ", twice)}");
        Assert.True(!unused.Any(), $"Regions under docs/snippets that no README shows (remove them, or mark the block): {string.Join(", ", unused)}");
    }

    [Fact]
    public void TheSnippetsProject_IsBuiltWithTheSolution()
    {
        string solution = File.ReadAllText(Path.Combine(MarkdownSnippets.RepositoryRoot, "Tripswitch.slnx"));

        Assert.Contains("docs/snippets/Tripswitch.Docs.Snippets.csproj", solution, StringComparison.Ordinal);
    }

    [Fact]
    public void TheReadmes_HaveCSharpBlocks()
    {
        // Guards the extraction itself: a parser that finds nothing would make every other test pass vacuously.
        Assert.True(MarkdownSnippets.Blocks("README.md").Count() >= 10);
        Assert.True(MarkdownSnippets.Regions().Count >= 10);
    }

    [Fact]
    public void ADifferentBlock_IsReported()
    {
        Assert.Null(FirstDifference("a\nb", "a\nb"));
        Assert.Equal("line 2: README `b`, compiled `c`", FirstDifference("a\nb", "a\nc"));
        Assert.Equal("the README has 1 lines, the compiled region 2", FirstDifference("a", "a\nb"));
    }

    internal static string? FirstDifference(string readme, string compiled)
    {
        string[] a = readme.Split('\n');
        string[] b = compiled.Split('\n');
        for (int i = 0; i < Math.Min(a.Length, b.Length); i++)
        {
            if (a[i] != b[i])
            {
                return $"line {i + 1}: README `{a[i]}`, compiled `{b[i]}`";
            }
        }

        return a.Length == b.Length ? null : $"the README has {a.Length} lines, the compiled region {b.Length}";
    }
}
