using System.Globalization;
using StackExchange.Redis;

namespace Tripswitch.Demo;

/// <summary>What the program runs.</summary>
internal enum DemoMode
{
    /// <summary>The live scenario (the default).</summary>
    Scenario,

    /// <summary>The seed's hands-on exercise (v1 of the demo).</summary>
    Exercise,

    /// <summary>A child process of a fleet started by <c>--redis … --instances N</c> (hidden).</summary>
    FleetMember,
}

/// <summary>The command line, parsed.</summary>
internal sealed record DemoOptions
{
    public const int MaxInstances = 8;

    public const string Usage = """
        Usage: dotnet run --project samples/Tripswitch.Demo [-- options]

        A live circuit-breaker demo, fully offline. An embedded OpenAI-compatible fake server on 127.0.0.1 serves
        three models; six simulated users ask them questions through the official OpenAI .NET client and Tripswitch's
        HTTP handler, with one circuit per model (openai/<model>). The scenario: every model healthy, then gpt-4.1
        fails with HTTP 500, then gpt-4.1-mini is rate-limited (HTTP 429 with Retry-After), then everything recovers.
        A request whose model's circuit is open falls back to another model.

        Options:
          --seed N              seed of the simulated users (who asks what, and their pauses), 0 to 2147483647
                                (default 7); the same seed gives the same traffic (counts vary a little: real time)
          --duration SECONDS    length of the scenario, 5 to 600 (default 24); phases and timeouts scale with it
          --json                print a machine-readable summary on stdout at the end, and nothing else there
                                (progress lines go to stderr)
          --dashboard           also serve the Tripswitch dashboard on 127.0.0.1 and print its URL; in a terminal,
                                wait for Enter at the end so the page can be looked at
          --redis CONNECTION    share the circuits through Redis (a StackExchange.Redis configuration string,
                                e.g. 127.0.0.1:6379)
          --instances N         with --redis: a fleet of N demo processes (1 to 8, default 2) sharing the circuits;
                                only the first one's models fail, and every instance shows when it saw the trip
          --exercise            run the seed's hands-on exercise instead: one circuit in front of a flaky HTTP
                                server (takes only --seed, default 25)
          -h, --help            show this help

        Without a terminal (a pipe, CI) the live view becomes plain lines: phases and transitions as they happen,
        then the summary and the timeline.

        Exit codes: 0 done, 1 failed (e.g. Redis unreachable), 2 bad command line, 130 interrupted (Ctrl+C).
        """;

    public DemoMode Mode { get; init; } = DemoMode.Scenario;

    public int? Seed { get; init; }

    public TimeSpan Duration { get; init; } = ScenarioSettings.DefaultDuration;

    public bool Json { get; init; }

    public bool Dashboard { get; init; }

    public string? Redis { get; init; }

    public int Instances { get; init; } = 1;

    public bool ShowHelp { get; init; }

    /// <summary>Fleet members only: this process's number in the fleet (2 to N).</summary>
    public int Instance { get; init; } = 1;

    /// <summary>Fleet members only: the Redis key prefix the whole fleet shares.</summary>
    public string? FleetPrefix { get; init; }

    /// <summary>The seed of the chosen mode.</summary>
    public int EffectiveSeed => Seed ?? (Mode == DemoMode.Exercise ? ExerciseSettings.DefaultSeed : ScenarioSettings.DefaultSeed);

    /// <summary>Parses the arguments; on an error returns <see langword="null"/> and a message for the user.</summary>
    public static DemoOptions? Parse(IReadOnlyList<string> args, out string? error)
    {
        error = null;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        int? seed = null;
        TimeSpan? duration = null;
        int? instances = null;
        int? instance = null;
        bool json = false, dashboard = false, exercise = false, fleetMember = false, help = false;
        string? redis = null, prefix = null;

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

            if (!seen.Add(arg == "-h" ? "--help" : arg))
            {
                error = $"{arg} is given twice.";
                return null;
            }

            switch (arg)
            {
                case "-h" or "--help" or "--json" or "--dashboard" or "--exercise" or "--fleet-member" when inlineValue is not null:
                    error = $"{arg} takes no value.";
                    return null;
                case "-h" or "--help":
                    help = true;
                    break;
                case "--json":
                    json = true;
                    break;
                case "--dashboard":
                    dashboard = true;
                    break;
                case "--exercise":
                    exercise = true;
                    break;
                case "--fleet-member":
                    fleetMember = true;
                    break;
                case "--seed":
                    if (Value(args, ref i, arg, inlineValue, out error) is not { } seedText)
                    {
                        return null;
                    }

                    if (!int.TryParse(seedText, NumberStyles.None, CultureInfo.InvariantCulture, out int parsedSeed))
                    {
                        error = $"--seed must be a whole number from 0 to {int.MaxValue}; it was '{seedText}'.";
                        return null;
                    }

                    seed = parsedSeed;
                    break;
                case "--duration":
                    if (Value(args, ref i, arg, inlineValue, out error) is not { } durationText)
                    {
                        return null;
                    }

                    if (!double.TryParse(durationText, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double seconds)
                        || seconds < ScenarioSettings.MinDuration.TotalSeconds
                        || seconds > ScenarioSettings.MaxDuration.TotalSeconds)
                    {
                        error = string.Create(
                            CultureInfo.InvariantCulture,
                            $"--duration must be a number of seconds from {ScenarioSettings.MinDuration.TotalSeconds} to {ScenarioSettings.MaxDuration.TotalSeconds}; it was '{durationText}'.");
                        return null;
                    }

                    duration = TimeSpan.FromSeconds(seconds);
                    break;
                case "--redis":
                    if (Value(args, ref i, arg, inlineValue, out error) is not { } redisText)
                    {
                        return null;
                    }

                    if (!IsRedisConfiguration(redisText))
                    {
                        error = $"--redis must be a Redis connection such as 127.0.0.1:6379 (a StackExchange.Redis configuration string); it was '{redisText}'.";
                        return null;
                    }

                    redis = redisText;
                    break;
                case "--instances":
                    if (Value(args, ref i, arg, inlineValue, out error) is not { } instancesText)
                    {
                        return null;
                    }

                    if (!int.TryParse(instancesText, NumberStyles.None, CultureInfo.InvariantCulture, out int parsedInstances)
                        || parsedInstances < 1
                        || parsedInstances > MaxInstances)
                    {
                        error = $"--instances must be a whole number from 1 to {MaxInstances}; it was '{instancesText}'.";
                        return null;
                    }

                    instances = parsedInstances;
                    break;

                // Hidden: how a fleet's parent starts its members.
                case "--fleet-prefix":
                    if (Value(args, ref i, arg, inlineValue, out error) is not { } prefixText)
                    {
                        return null;
                    }

                    prefix = prefixText;
                    break;
                case "--instance":
                    if (Value(args, ref i, arg, inlineValue, out error) is not { } instanceText)
                    {
                        return null;
                    }

                    if (!int.TryParse(instanceText, NumberStyles.None, CultureInfo.InvariantCulture, out int parsedInstance)
                        || parsedInstance < 2
                        || parsedInstance > MaxInstances)
                    {
                        error = $"--instance must be a whole number from 2 to {MaxInstances}; it was '{instanceText}'.";
                        return null;
                    }

                    instance = parsedInstance;
                    break;
                default:
                    error = $"Unknown option '{args[i]}'.";
                    return null;
            }
        }

        if (help)
        {
            return new DemoOptions { ShowHelp = true };
        }

        if (exercise)
        {
            if (seen.Except(["--exercise", "--seed"]).FirstOrDefault() is { } other)
            {
                error = $"--exercise takes only --seed, not {other}.";
                return null;
            }

            return new DemoOptions { Mode = DemoMode.Exercise, Seed = seed };
        }

        if ((prefix is not null || instance is not null) && !fleetMember)
        {
            error = $"Unknown option '{(prefix is not null ? "--fleet-prefix" : "--instance")}'.";
            return null;
        }

        if (fleetMember)
        {
            if (redis is null || prefix is null || instance is null)
            {
                error = "--fleet-member needs --redis, --fleet-prefix and --instance (it is started by a fleet's first instance).";
                return null;
            }

            return new DemoOptions
            {
                Mode = DemoMode.FleetMember,
                Seed = seed,
                Duration = duration ?? ScenarioSettings.DefaultDuration,
                Redis = redis,
                Instance = instance.Value,
                FleetPrefix = prefix,
            };
        }

        if (instances is not null && redis is null)
        {
            error = "--instances needs --redis (the fleet shares its circuits through Redis).";
            return null;
        }

        return new DemoOptions
        {
            Seed = seed,
            Duration = duration ?? ScenarioSettings.DefaultDuration,
            Json = json,
            Dashboard = dashboard,
            Redis = redis,
            Instances = redis is null ? 1 : instances ?? 2,
        };
    }

    private static string? Value(IReadOnlyList<string> args, ref int i, string option, string? inlineValue, out string? error)
    {
        error = null;
        string? value = inlineValue ?? (i + 1 < args.Count ? args[++i] : null);
        if (string.IsNullOrWhiteSpace(value))
        {
            error = $"{option} needs a value.";
            return null;
        }

        return value;
    }

    private static bool IsRedisConfiguration(string text)
    {
        try
        {
            return ConfigurationOptions.Parse(text).EndPoints.Count > 0;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
