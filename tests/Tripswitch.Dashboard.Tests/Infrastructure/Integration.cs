namespace Tripswitch.Dashboard.Tests.Infrastructure;

/// <summary>
/// Real components the tests need. A missing one skips the test with the reason, never passes it; with
/// <c>TRIPSWITCH_REQUIRE_INTEGRATION=1</c> (set by <c>.ci/run</c>) a missing one fails it.
/// </summary>
internal static class Integration
{
    /// <summary>Debian's chromium package; <c>TRIPSWITCH_CHROMIUM</c> names another executable.</summary>
    public const string DefaultChromiumPath = "/usr/bin/chromium";

    public static bool Required => Environment.GetEnvironmentVariable("TRIPSWITCH_REQUIRE_INTEGRATION") == "1";

    /// <summary>The Chromium executable, or skips the test (fails it when integration is required).</summary>
    public static string RequireChromium()
    {
        string path = Environment.GetEnvironmentVariable("TRIPSWITCH_CHROMIUM") is { Length: > 0 } configured ? configured : DefaultChromiumPath;
        if (!File.Exists(path))
        {
            string reason = $"Chromium is not installed at {path} (Debian/Ubuntu: apt-get install -y chromium; ./test.sh installs it when run as root; TRIPSWITCH_CHROMIUM names another executable).";
            if (Required)
            {
                Assert.Fail(reason + " TRIPSWITCH_REQUIRE_INTEGRATION=1 makes a missing component a failure.");
            }

            Assert.Skip(reason);
        }

        return path;
    }
}
