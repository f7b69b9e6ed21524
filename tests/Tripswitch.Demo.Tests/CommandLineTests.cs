using Tripswitch.Demo.Tests.Infrastructure;

namespace Tripswitch.Demo.Tests;

/// <summary>Bad usage: a message and the usage on stderr, nothing on stdout, exit code 2.</summary>
public sealed class CommandLineTests
{
    [Theory]
    [InlineData("Unknown option '--bogus'.", "--bogus")]
    [InlineData("Unknown option 'extra'.", "extra")]
    [InlineData("--seed needs a value.", "--seed")]
    [InlineData("--seed must be a whole number from 0 to 2147483647; it was 'abc'.", "--seed", "abc")]
    [InlineData("--seed must be a whole number from 0 to 2147483647; it was '-1'.", "--seed=-1")]
    [InlineData("--duration must be a number of seconds from 5 to 600; it was '2'.", "--duration", "2")]
    [InlineData("--duration must be a number of seconds from 5 to 600; it was 'soon'.", "--duration", "soon")]
    [InlineData("--json takes no value.", "--json=yes")]
    [InlineData("--instances needs --redis (the fleet shares its circuits through Redis).", "--instances", "2")]
    [InlineData("--instances must be a whole number from 1 to 8; it was '9'.", "--redis", "127.0.0.1:6379", "--instances", "9")]
    [InlineData("--exercise takes only --seed, not --json.", "--exercise", "--json")]
    [InlineData("--seed is given twice.", "--seed", "1", "--seed", "2")]
    public async Task BadOptions_PrintTheUsageOnStderr_AndExitWith2(string message, params string[] args)
    {
        DemoRun run = await DemoProcess.RunAsync(args);

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Equal(string.Empty, run.Stdout);
        Assert.StartsWith($"tripswitch-demo: {message}", run.Stderr, StringComparison.Ordinal);
        Assert.Contains("Usage: dotnet run --project samples/Tripswitch.Demo [-- options]", run.Stderr, StringComparison.Ordinal);
        Assert.Contains("--duration SECONDS", run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Help_PrintsTheUsageOnStdout_WithoutTheHiddenFleetOptions()
    {
        DemoRun run = await DemoProcess.RunAsync("--help");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.StartsWith("Usage: dotnet run --project samples/Tripswitch.Demo [-- options]", run.Stdout, StringComparison.Ordinal);
        foreach (string option in new[] { "--seed N", "--duration SECONDS", "--json", "--dashboard", "--redis CONNECTION", "--instances N", "--exercise" })
        {
            Assert.Contains(option, run.Stdout, StringComparison.Ordinal);
        }

        Assert.DoesNotContain("--fleet-member", run.Stdout, StringComparison.Ordinal);
        Assert.Equal(string.Empty, run.Stderr);
    }
}
