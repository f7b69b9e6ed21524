using Tripswitch.FakeLlm;

namespace Tripswitch.Demo;

/// <summary>
/// The live scenario's knobs. Everything that takes time scales with <see cref="Duration"/>: the phases, the circuits'
/// recovery timeout and the rate limit's Retry-After, so <c>--duration</c> stretches or squeezes the same story.
/// </summary>
internal sealed record ScenarioSettings
{
    public const int DefaultSeed = 7;

    public const string OutageModel = "gpt-4.1";

    public const string RateLimitedModel = "gpt-4.1-mini";

    public const string SpareModel = "gpt-4o-mini";

    public static readonly TimeSpan DefaultDuration = TimeSpan.FromSeconds(24);

    public static readonly TimeSpan MinDuration = TimeSpan.FromSeconds(5);

    public static readonly TimeSpan MaxDuration = TimeSpan.FromSeconds(600);

    /// <summary>The models FakeLlm serves, in the order the view lists them.</summary>
    public static IReadOnlyList<string> Models { get; } = [OutageModel, RateLimitedModel, SpareModel];

    /// <summary>Which model each simulated user asks first: three ask the flagship, two the mini, one the 4o-mini.</summary>
    private static readonly string[] s_primaryModels = [OutageModel, OutageModel, OutageModel, RateLimitedModel, RateLimitedModel, SpareModel];

    private static readonly string[] s_questions =
    [
        "Summarize this support ticket in one line.",
        "Translate 'circuit breaker' into French.",
        "Suggest a name for a status page.",
        "What does HTTP 429 mean?",
        "Write a haiku about retries.",
        "Classify this log line: timeout after 30s.",
        "Give me three test cases for a login form.",
        "Explain exponential backoff to a child.",
    ];

    public int Seed { get; init; } = DefaultSeed;

    public TimeSpan Duration { get; init; } = DefaultDuration;

    public int Users { get; init; } = 6;

    /// <summary>Whether this process scripts FakeLlm's failures (a fleet's members keep their models healthy).</summary>
    public bool ScriptFailures { get; init; } = true;

    /// <summary>This process's number in a fleet (1 without one).</summary>
    public int Instance { get; init; } = 1;

    /// <summary>Consecutive failures that open a circuit.</summary>
    public int FailureThreshold { get; init; } = 3;

    /// <summary>Successful probes that close a half-open circuit.</summary>
    public int SuccessThreshold { get; init; } = 2;

    /// <summary>How long a circuit stays open before it lets one probe through (2 s in the default 24 s run).</summary>
    public TimeSpan RecoveryTimeout => Max(Duration / 12, TimeSpan.FromMilliseconds(300));

    /// <summary>What the rate-limited model's 429s ask for: whole seconds, a quarter of the run (6 s by default), longer than <see cref="RecoveryTimeout"/>.</summary>
    public TimeSpan RateLimitRetryAfter => TimeSpan.FromSeconds(Math.Max(1, Math.Round(Duration.TotalSeconds / 4)));

    /// <summary>How long one request may take before the HTTP handler counts it as a failure.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The pause of a simulated user between two questions, at least.</summary>
    public TimeSpan MinThinkTime { get; init; } = TimeSpan.FromMilliseconds(150);

    /// <summary>The pause of a simulated user between two questions, at most.</summary>
    public TimeSpan MaxThinkTime { get; init; } = TimeSpan.FromMilliseconds(450);

    /// <summary>After <see cref="Duration"/>, how long the run waits at most for every circuit to close again.</summary>
    public TimeSpan MaxOvertime => Duration / 4;

    public IReadOnlyList<ScenarioPhase> Phases
    {
        get
        {
            TimeSpan outage = Duration * 0.15;
            TimeSpan rateLimit = Duration * 0.45;
            TimeSpan recovery = rateLimit + RateLimitRetryAfter;
            string retryAfter = Seconds(RateLimitRetryAfter);
            return
            [
                new(1, "healthy", "Healthy", "every model answers", TimeSpan.Zero, outage, static _ => { }),
                new(2, "outage", "Outage", $"{OutageModel} fails with HTTP 500", outage, rateLimit, static server =>
                    server.Model(OutageModel).Always(FakeLlmBehavior.ServerError())),
                new(3, "rate-limit", "Rate limit", $"{RateLimitedModel} answers 429, Retry-After: {retryAfter}; {OutageModel} is back", rateLimit, recovery, server =>
                {
                    server.Model(OutageModel).Always(FakeLlmBehavior.Reply(FakeModel.DefaultReply(OutageModel)));
                    server.Model(RateLimitedModel).Always(FakeLlmBehavior.RateLimited(RateLimitRetryAfter));
                }),
                new(4, "recovery", "Recovery", "every model answers again", recovery, Duration, static server =>
                    server.Model(RateLimitedModel).Always(FakeLlmBehavior.Reply(FakeModel.DefaultReply(RateLimitedModel)))),
            ];
        }
    }

    public static string CircuitKey(string model) => $"openai/{model}";

    public static string ModelOf(string circuitKey) => circuitKey.StartsWith("openai/", StringComparison.Ordinal) ? circuitKey["openai/".Length..] : circuitKey;

    /// <summary>The model user <paramref name="user"/> (1-based) asks first.</summary>
    public static string PrimaryModel(int user) => s_primaryModels[(user - 1) % s_primaryModels.Length];

    /// <summary>The models tried in order for a question to <paramref name="model"/>: the model, then its fallbacks.</summary>
    public static IReadOnlyList<string> Route(string model) => model switch
    {
        OutageModel => [OutageModel, RateLimitedModel, SpareModel],
        RateLimitedModel => [RateLimitedModel, SpareModel, OutageModel],
        _ => [model, RateLimitedModel, OutageModel],
    };

    public static string Question(int index) => s_questions[index % s_questions.Length];

    public static int QuestionCount => s_questions.Length;

    public static string Seconds(TimeSpan span) => Format.Seconds(span);

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
}

/// <summary>One phase of the scenario: from <see cref="Start"/> to <see cref="End"/>, what FakeLlm does.</summary>
/// <param name="Number">1-based.</param>
/// <param name="Key">A stable name for machines (<c>outage</c>).</param>
/// <param name="Title">The name people read (<c>Outage</c>).</param>
/// <param name="Description">What happens (<c>gpt-4.1 fails with HTTP 500</c>).</param>
/// <param name="Start">When it starts, relative to the start of the run.</param>
/// <param name="End">When it ends.</param>
/// <param name="Script">Scripts FakeLlm's models when the phase starts.</param>
internal sealed record ScenarioPhase(int Number, string Key, string Title, string Description, TimeSpan Start, TimeSpan End, Action<FakeLlmServer> Script);
