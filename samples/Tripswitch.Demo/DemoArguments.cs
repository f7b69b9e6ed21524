using System.Globalization;

namespace Tripswitch.Demo;

/// <summary>The command line: <c>[--seed N] [--help]</c>.</summary>
internal sealed record DemoArguments(int Seed, bool ShowHelp)
{
    // With this seed the default run shows every rule of the pattern in about 20 calls: a success that resets the
    // failure count, the trip, a probe that succeeds and a second one that fails, a failed probe, and the recovery.
    public const int DefaultSeed = 25;

    public const string Usage = """
        Usage: dotnet run --project samples/Tripswitch.Demo [-- options]

        Runs the circuit-breaker hands-on exercise against an embedded flaky HTTP server on 127.0.0.1.

        Options:
          --seed N    seed of the server's failures, a whole number from 0 to 2147483647 (default 25);
                      the same seed gives the same run
          -h, --help  show this help
        """;

    /// <summary>Parses the arguments; on an error returns <see langword="null"/> and a message for the user.</summary>
    public static DemoArguments? Parse(IReadOnlyList<string> args, out string? error)
    {
        int seed = DefaultSeed;
        bool help = false;
        error = null;
        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i];
            string? inlineValue = null;
            int equals = arg.IndexOf('=', StringComparison.Ordinal);
            if (arg.StartsWith("--", StringComparison.Ordinal) && equals > 0)
            {
                inlineValue = arg[(equals + 1)..];
                arg = arg[..equals];
            }

            switch (arg)
            {
                case "-h" or "--help" when inlineValue is null:
                    help = true;
                    break;

                case "--seed":
                    string? value = inlineValue ?? (i + 1 < args.Count ? args[++i] : null);
                    if (value is null)
                    {
                        error = "--seed needs a value.";
                        return null;
                    }

                    if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out seed))
                    {
                        error = $"--seed must be a whole number from 0 to {int.MaxValue}; it was '{value}'.";
                        return null;
                    }

                    break;

                default:
                    error = $"Unknown option '{args[i]}'.";
                    return null;
            }
        }

        return new DemoArguments(seed, help);
    }
}
