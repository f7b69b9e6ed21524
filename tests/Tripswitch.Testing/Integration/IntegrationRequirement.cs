using Xunit;

namespace Tripswitch.Testing;

/// <summary>
/// Real components the tests need (redis-server, Chromium, openssl …). A missing one skips the test with the reason, never
/// passes it; with <c>TRIPSWITCH_REQUIRE_INTEGRATION=1</c> (set by <c>.ci/run</c>) a missing one fails it.
/// </summary>
public static class IntegrationRequirement
{
    /// <summary>The environment variable that turns a missing component into a failure.</summary>
    public const string Variable = "TRIPSWITCH_REQUIRE_INTEGRATION";

    /// <summary>Debian's chromium package; <c>TRIPSWITCH_CHROMIUM</c> names another executable.</summary>
    public const string DefaultChromiumPath = "/usr/bin/chromium";

    /// <summary>Whether a missing component fails the test (<c>TRIPSWITCH_REQUIRE_INTEGRATION=1</c>).</summary>
    public static bool Required => Environment.GetEnvironmentVariable(Variable) == "1";

    /// <summary>Skips the test with <paramref name="reason"/> — or fails it when integration is required.</summary>
    public static void Missing(string reason)
    {
        if (Required)
        {
            Assert.Fail($"{reason} {Variable}=1 makes a missing component a failure.");
        }

        Assert.Skip(reason);
    }

    /// <summary>
    /// The full path of the executable <paramref name="name"/> found in <c>PATH</c> (or in <paramref name="alsoLookIn"/>);
    /// when there is none, skips the test naming the Debian package that provides it (fails it when integration is required).
    /// </summary>
    public static string Executable(string name, string debianPackage, params string[] alsoLookIn)
    {
        ArgumentNullException.ThrowIfNull(alsoLookIn);
        string? found = FindExecutable(name, alsoLookIn);
        if (found is null)
        {
            Missing($"{name} is not installed (Debian/Ubuntu: apt-get install -y {debianPackage}; ./test.sh installs it when run as root).");
        }

        return found!;
    }

    /// <summary>The Chromium executable, or skips the test (fails it when integration is required).</summary>
    public static string Chromium()
    {
        string path = Environment.GetEnvironmentVariable("TRIPSWITCH_CHROMIUM") is { Length: > 0 } configured ? configured : DefaultChromiumPath;
        if (!File.Exists(path))
        {
            Missing($"Chromium is not installed at {path} (Debian/Ubuntu: apt-get install -y chromium; ./test.sh installs it when run as root; TRIPSWITCH_CHROMIUM names another executable).");
        }

        return path;
    }

    /// <summary>The full path of <paramref name="name"/> in <c>PATH</c> or <paramref name="alsoLookIn"/>, or null.</summary>
    public static string? FindExecutable(string name, params string[] alsoLookIn)
    {
        ArgumentNullException.ThrowIfNull(alsoLookIn);
        IEnumerable<string> directories = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Concat(alsoLookIn);
        return directories.Select(directory => Path.Combine(directory, name)).FirstOrDefault(File.Exists);
    }
}
