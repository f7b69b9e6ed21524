using System.Text.RegularExpressions;

namespace Tripswitch.Docs.Tests;

/// <summary>
/// A package README is read on the package registry's page, where a relative link or a path in the repository leads
/// nowhere: links are absolute, and those into the repository start with TripswitchRepositoryUrl (Directory.Build.props).
/// </summary>
public partial class PackageReadmeLinkTests
{
    public static TheoryData<string> PackageReadmes() => [.. MarkdownSnippets.Readmes().Where(r => r.StartsWith("src/", StringComparison.Ordinal))];

    private static string RepositoryUrl { get; } =
        RepositoryUrlRegex().Match(File.ReadAllText(Path.Combine(MarkdownSnippets.RepositoryRoot, "Directory.Build.props"))).Groups[1].Value;

    [Fact]
    public void TheRepositoryUrl_IsRead()
        => Assert.StartsWith("https://", RepositoryUrl, StringComparison.Ordinal);

    [Theory]
    [MemberData(nameof(PackageReadmes))]
    public void Links_AreAbsolute_AndPathsInTheRepositoryAreLinks(string readme)
    {
        Assert.Equal(string.Empty, string.Join("\n", Problems(readme, File.ReadAllText(Path.Combine(MarkdownSnippets.RepositoryRoot, readme)))));
    }

    [Fact]
    public void ARelativeLink_APathAndAnUnlinkedReadme_AreReported()
    {
        string text = $"""
            See [the tests](../../tests/X), [docs]({RepositoryUrl}/tree/main/docs) and [elsewhere](https://example.test/).
            The tests in `tests/Tripswitch.Polly.Tests` run; details in the repository's README.
            """;

        string[] problems = [.. Problems("src/X/README.md", text)];

        Assert.Equal(3, problems.Length);
        Assert.Contains("`../../tests/X`", problems[0], StringComparison.Ordinal);
        Assert.Contains("`tests/Tripswitch.Polly.Tests`", problems[1], StringComparison.Ordinal);
        Assert.Contains("the repository's README", problems[2], StringComparison.Ordinal);
    }

    private static IEnumerable<string> Problems(string readme, string text)
    {
        string[] lines = text.ReplaceLineEndings("\n").Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            string where = $"{readme}:{i + 1}";
            foreach (Match link in LinkRegex().Matches(lines[i]))
            {
                string target = link.Groups[1].Value;
                if (!target.StartsWith("https://", StringComparison.Ordinal))
                {
                    yield return $"{where}: the link `{target}` is relative; on the package's page it leads nowhere. Write {RepositoryUrl}/... instead.";
                }
            }

            foreach (Match path in RepositoryPathRegex().Matches(lines[i]))
            {
                yield return $"{where}: `{path.Groups[1].Value}` is a path in the repository the package's reader doesn't have; link it: [text]({RepositoryUrl}/tree/main/...).";
            }

            if (UnlinkedReadmeRegex().IsMatch(lines[i]))
            {
                yield return $"{where}: \"the repository's README\" without a link; link it: [the repository's README]({RepositoryUrl}#readme).";
            }
        }
    }

    [GeneratedRegex(@"<TripswitchRepositoryUrl>([^<]+)</TripswitchRepositoryUrl>")]
    private static partial Regex RepositoryUrlRegex();

    [GeneratedRegex(@"\]\(([^)\s]+)\)")]
    private static partial Regex LinkRegex();

    [GeneratedRegex(@"`((?:tests|docs|src|samples|scripts|bench)/[^`]*)`")]
    private static partial Regex RepositoryPathRegex();

    [GeneratedRegex(@"(?<!\[)the repository's README(?!\]\()", RegexOptions.IgnoreCase)]
    private static partial Regex UnlinkedReadmeRegex();
}
