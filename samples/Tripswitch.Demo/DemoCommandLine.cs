using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using StackExchange.Redis;

namespace Tripswitch.Demo;

/// <summary>
/// The demo's command line on System.CommandLine: the options, their checks and the generated <c>--help</c>. What the
/// library doesn't say our way is translated in <see cref="MessageOf"/>; the rules between options are validators.
/// </summary>
internal sealed class DemoCommandLine
{
    private const string Description = """
        Run it with: dotnet run --project samples/Tripswitch.Demo [-- options]

        A live circuit-breaker demo, fully offline. An embedded OpenAI-compatible fake server on 127.0.0.1 serves
        three models; six simulated users ask them questions through the official OpenAI .NET client and Tripswitch's
        HTTP handler, with one circuit per model (openai/<model>). The scenario: every model healthy, then gpt-4.1
        fails with HTTP 500, then gpt-4.1-mini is rate-limited (HTTP 429 with Retry-After), then everything recovers.
        A request whose model's circuit is open falls back to another model.

        Without a terminal (a pipe, CI) the live view becomes plain lines: phases and transitions as they happen,
        then the summary and the timeline.

        Exit codes: 0 done, 1 failed (e.g. Redis unreachable), 2 bad command line, 130 interrupted (Ctrl+C).
        """;

    private readonly RootCommand _root = new(Description);

    private readonly Option<int?> _seed = Valued<int?>(
        "--seed",
        "N",
        $"seed of the simulated users (who asks what, and their pauses), 0 to {int.MaxValue} (default {ScenarioSettings.DefaultSeed}; with --exercise {ExerciseSettings.DefaultSeed}); the same seed gives the same traffic (counts vary a little: real time)",
        text => int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int seed) ? seed : null,
        text => $"--seed must be a whole number from 0 to {int.MaxValue}; it was '{text}'.");

    private readonly Option<TimeSpan?> _duration = Valued<TimeSpan?>(
        "--duration",
        "SECONDS",
        Format.Invariant($"length of the scenario, {ScenarioSettings.MinDuration.TotalSeconds} to {ScenarioSettings.MaxDuration.TotalSeconds} (default {ScenarioSettings.DefaultDuration.TotalSeconds}); phases and timeouts scale with it"),
        ParseDuration,
        text => Format.Invariant($"--duration must be a number of seconds from {ScenarioSettings.MinDuration.TotalSeconds} to {ScenarioSettings.MaxDuration.TotalSeconds}; it was '{text}'."));

    private readonly Option<bool> _json = Flag("--json", "print a machine-readable summary on stdout at the end, and nothing else there (progress lines go to stderr)");

    private readonly Option<bool> _dashboard = Flag("--dashboard", "also serve the Tripswitch dashboard on 127.0.0.1 and print its URL; in a terminal, wait for Enter at the end so the page can be looked at");

    private readonly Option<string?> _redis = Valued<string?>(
        "--redis",
        "CONNECTION",
        "share the circuits through Redis (a StackExchange.Redis configuration string, e.g. 127.0.0.1:6379)",
        text => IsRedisConfiguration(text) ? text : null,
        text => $"--redis must be a Redis connection such as 127.0.0.1:6379 (a StackExchange.Redis configuration string); it was '{text}'.");

    private readonly Option<int?> _instances = Valued<int?>(
        "--instances",
        "N",
        $"with --redis: a fleet of N demo processes (1 to {DemoOptions.MaxInstances}, default 2) sharing the circuits; only the first one's models fail, and every instance shows when it saw the trip",
        text => WholeNumber(text, 1, DemoOptions.MaxInstances),
        text => $"--instances must be a whole number from 1 to {DemoOptions.MaxInstances}; it was '{text}'.");

    private readonly Option<bool> _exercise = Flag("--exercise", $"run the seed's hands-on exercise instead: one circuit in front of a flaky HTTP server (takes only --seed, default {ExerciseSettings.DefaultSeed})");

    // Hidden: how a fleet's first instance starts the others.
    private readonly Option<bool> _fleetMember = Flag("--fleet-member", "a fleet member (started by a fleet's first instance)", hidden: true);

    private readonly Option<string?> _fleetPrefix = Valued<string?>("--fleet-prefix", "PREFIX", "the fleet's Redis key prefix", text => text, _ => string.Empty, hidden: true);

    private readonly Option<int?> _instance = Valued<int?>(
        "--instance",
        "N",
        "this member's number in the fleet",
        text => WholeNumber(text, 2, DemoOptions.MaxInstances),
        text => $"--instance must be a whole number from 2 to {DemoOptions.MaxInstances}; it was '{text}'.",
        hidden: true);

    public DemoCommandLine()
    {
        foreach (Option option in (Option[])[_seed, _duration, _json, _dashboard, _redis, _instances, _exercise, _fleetMember, _fleetPrefix, _instance])
        {
            _root.Options.Add(option);

            // The library takes a repeated flag silently (and a repeated value as an arity error): say it plainly.
            option.Validators.Add(result =>
            {
                if (result.IdentifierTokenCount > 1)
                {
                    result.AddError($"{option.Name} is given twice.");
                }
            });
        }

        // The demo has no version of its own to show.
        _root.Options.Remove(_root.Options.OfType<VersionOption>().Single());
        _root.Validators.Add(CheckCombination);
    }

    /// <summary>Parses <paramref name="args"/>.</summary>
    /// <returns>The options; or <see langword="null"/> and <paramref name="error"/>, or <see langword="null"/> and <paramref name="help"/> set.</returns>
    public DemoOptions? Parse(IReadOnlyList<string> args, out string? error, out bool help)
    {
        ParseResult result = _root.Parse(args);
        help = result.Action is System.CommandLine.Help.HelpAction;
        error = null;
        if (help)
        {
            return null;
        }

        if (result.Errors.Count > 0)
        {
            error = MessageOf(result, result.Errors[0], args);
            return null;
        }

        if (result.GetValue(_exercise))
        {
            return new DemoOptions { Mode = DemoMode.Exercise, Seed = result.GetValue(_seed) };
        }

        string? redis = result.GetValue(_redis);
        return new DemoOptions
        {
            Mode = result.GetValue(_fleetMember) ? DemoMode.FleetMember : DemoMode.Scenario,
            Seed = result.GetValue(_seed),
            Duration = result.GetValue(_duration) ?? ScenarioSettings.DefaultDuration,
            Json = result.GetValue(_json),
            Dashboard = result.GetValue(_dashboard),
            Redis = redis,
            Instances = redis is null ? 1 : result.GetValue(_instances) ?? 2,
            Instance = result.GetValue(_instance) ?? 1,
            FleetPrefix = result.GetValue(_fleetPrefix),
        };
    }

    /// <summary>Writes the generated help (without the hidden fleet options) to <paramref name="output"/>.</summary>
    public void WriteHelp(TextWriter output) => _root.Parse(["--help"]).Invoke(new InvocationConfiguration { Output = output });

    /// <summary>
    /// The library's message, except where ours says more: a repeated option, an unknown token, and a value given to a
    /// flag as <c>--json=yes</c> (which the library splits into <c>--json</c> and an unmatched <c>yes</c>).
    /// </summary>
    private string MessageOf(ParseResult result, ParseError error, IReadOnlyList<string> args)
    {
        if (error.SymbolResult is OptionResult { IdentifierTokenCount: > 1 } repeated)
        {
            return $"{repeated.Option.Name} is given twice.";
        }

        if (error.SymbolResult is CommandResult && result.UnmatchedTokens.Count > 0)
        {
            string token = result.UnmatchedTokens[0];
            Option? flag = _root.Options.FirstOrDefault(o => o.Arity.MaximumNumberOfValues == 0 && args.Contains($"{o.Name}={token}", StringComparer.Ordinal));
            return flag is not null ? $"{flag.Name} takes no value." : $"Unknown option '{token}'.";
        }

        return error.Message;
    }

    /// <summary>The rules between options (each option's own range is checked by its parser).</summary>
    private void CheckCombination(CommandResult command)
    {
        bool Given(Option option) => command.GetResult(option) is { Implicit: false };
        string[] given = [.. _root.Options.Where(Given).Select(o => o.Name)];
        if (Given(_exercise))
        {
            if (given.FirstOrDefault(name => name is not "--exercise" and not "--seed") is { } other)
            {
                command.AddError($"--exercise takes only --seed, not {other}.");
            }
        }
        else if (Given(_fleetMember))
        {
            if (!Given(_redis) || !Given(_fleetPrefix) || !Given(_instance))
            {
                command.AddError("--fleet-member needs --redis, --fleet-prefix and --instance (it is started by a fleet's first instance).");
            }
        }
        else if (Given(_fleetPrefix) || Given(_instance))
        {
            command.AddError($"Unknown option '{(Given(_fleetPrefix) ? "--fleet-prefix" : "--instance")}'.");
        }
        else if (Given(_instances) && !Given(_redis))
        {
            command.AddError("--instances needs --redis (the fleet shares its circuits through Redis).");
        }
    }

    private static Option<bool> Flag(string name, string description, bool hidden = false) => new(name)
    {
        Description = description,
        Arity = ArgumentArity.Zero,
        Hidden = hidden,
    };

    /// <summary>An option with one value, parsed by <paramref name="parse"/> (<see langword="null"/>: refused with <paramref name="refusal"/>).</summary>
    private static Option<T> Valued<T>(string name, string helpName, string description, Func<string, T?> parse, Func<string, string> refusal, bool hidden = false)
    {
        var option = new Option<T>(name)
        {
            Description = description,
            HelpName = helpName,
            Hidden = hidden,
            // Zero or one, so a missing value reaches the parser below and gets our message.
            Arity = ArgumentArity.ZeroOrOne,
        };
        option.CustomParser = argument =>
        {
            string? text = argument.Tokens.Count == 1 ? argument.Tokens[0].Value : null;
            if (string.IsNullOrWhiteSpace(text))
            {
                argument.AddError($"{name} needs a value.");
                return default;
            }

            T? value = parse(text);
            if (value is null)
            {
                argument.AddError(refusal(text));
            }

            return value!;
        };
        return option;
    }

    private static int? WholeNumber(string text, int min, int max)
        => int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value) && value >= min && value <= max ? value : null;

    private static TimeSpan? ParseDuration(string text)
        => double.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double seconds)
            && seconds >= ScenarioSettings.MinDuration.TotalSeconds
            && seconds <= ScenarioSettings.MaxDuration.TotalSeconds
                ? TimeSpan.FromSeconds(seconds)
                : null;

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
