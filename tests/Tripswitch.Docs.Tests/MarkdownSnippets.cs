using System.Text.RegularExpressions;

namespace Tripswitch.Docs.Tests;

/// <summary>A C# block of a README and the snippet name its marker gives (null when unmarked).</summary>
public sealed record CodeBlock(string File, int Line, string? Name, string Text);

/// <summary>Reads the C# blocks of the READMEs and the regions of the compiled snippets project.</summary>
public static partial class MarkdownSnippets
{
    public const string SnippetsFolder = "docs/snippets";

    public static string RepositoryRoot { get; } = FindRoot();

    /// <summary>README.md and every package's README.</summary>
    public static IEnumerable<string> Readmes()
    {
        yield return "README.md";
        foreach (string file in Directory.GetFiles(Path.Combine(RepositoryRoot, "src"), "README.md", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            yield return Path.GetRelativePath(RepositoryRoot, file).Replace('\\', '/');
        }
    }

    /// <summary>Every fenced C# block (```csharp, ```cs, ```c#) of <paramref name="file"/>, with the snippet marker on the line before it.</summary>
    public static IEnumerable<CodeBlock> Blocks(string file)
    {
        string[] lines = ReadLines(Path.Combine(RepositoryRoot, file));
        for (int i = 0; i < lines.Length; i++)
        {
            string fence = lines[i].Trim();
            if (!fence.StartsWith("```", StringComparison.Ordinal))
            {
                continue;
            }

            int end = Array.FindIndex(lines, i + 1, l => l.Trim() == "```");
            if (end < 0)
            {
                throw new InvalidDataException($"{file}:{i + 1}: a code block that never ends");
            }

            if (fence is "```csharp" or "```cs" or "```c#")
            {
                string? name = i > 0 && MarkerRegex().Match(lines[i - 1]) is { Success: true } m ? m.Groups[1].Value : null;
                yield return new CodeBlock(file, i + 1, name, string.Join('\n', lines[(i + 1)..end]));
            }

            i = end;
        }
    }

    /// <summary>
    /// The text of every named region under docs/snippets, dedented; regions of one name (a block's using directives at
    /// the top of its file, then its code) are joined with a blank line, in file order.
    /// </summary>
    public static IReadOnlyDictionary<string, string> Regions()
    {
        var parts = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (string file in Directory.GetFiles(Path.Combine(RepositoryRoot, SnippetsFolder), "*.cs", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            if (file.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                || file.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            {
                continue;
            }

            string[] lines = ReadLines(file);
            for (int i = 0; i < lines.Length; i++)
            {
                Match start = RegionRegex().Match(lines[i]);
                if (!start.Success)
                {
                    continue;
                }

                int end = Array.FindIndex(lines, i + 1, l => l.Trim().StartsWith("#endregion", StringComparison.Ordinal));
                if (end < 0)
                {
                    throw new InvalidDataException($"{file}:{i + 1}: #region {start.Groups[1].Value} never ends");
                }

                string name = start.Groups[1].Value;
                if (!parts.TryGetValue(name, out List<string>? list))
                {
                    parts[name] = list = [];
                }

                list.Add(Dedent(lines[(i + 1)..end]));
                i = end;
            }
        }

        return parts.ToDictionary(p => p.Key, p => string.Join("\n\n", p.Value), StringComparer.Ordinal);
    }

    /// <summary>The files under docs/snippets that hold each region name (absolute paths, in order).</summary>
    public static IReadOnlyDictionary<string, IReadOnlyList<string>> RegionFiles()
    {
        var files = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (string file in SnippetFiles())
        {
            foreach (string name in ReadLines(file).Select(l => RegionRegex().Match(l)).Where(m => m.Success).Select(m => m.Groups[1].Value).Distinct())
            {
                if (!files.TryGetValue(name, out List<string>? list))
                {
                    files[name] = list = [];
                }

                list.Add(file);
            }
        }

        return files.ToDictionary(f => f.Key, f => (IReadOnlyList<string>)f.Value, StringComparer.Ordinal);
    }

    /// <summary>The region names of one file.</summary>
    public static IReadOnlySet<string> RegionNames(string file)
        => ReadLines(file).Select(l => RegionRegex().Match(l)).Where(m => m.Success).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);

    private static IEnumerable<string> SnippetFiles()
        => Directory.GetFiles(Path.Combine(RepositoryRoot, SnippetsFolder), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal);

    private static string Dedent(string[] lines)
    {
        int indent = lines.Where(l => l.Trim().Length > 0).Select(l => l.Length - l.TrimStart().Length).DefaultIfEmpty(0).Min();
        return string.Join('\n', lines.Select(l => l.Trim().Length == 0 ? string.Empty : l[indent..]));
    }

    private static string[] ReadLines(string path)
        => [.. File.ReadAllText(path).ReplaceLineEndings("\n").Split('\n').Select(l => l.TrimEnd())];

    private static string FindRoot()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Tripswitch.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No Tripswitch.slnx above {AppContext.BaseDirectory}");
    }

    [GeneratedRegex(@"^\s*<!--\s*snippet:\s*([\w.-]+)\s*-->\s*$")]
    private static partial Regex MarkerRegex();

    [GeneratedRegex(@"^\s*#region\s+([\w.-]+)\s*$")]
    private static partial Regex RegionRegex();
}
