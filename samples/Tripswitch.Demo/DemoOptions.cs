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

/// <summary>The command line, parsed (by <see cref="DemoCommandLine"/>).</summary>
internal sealed record DemoOptions
{
    public const int MaxInstances = 8;

    public DemoMode Mode { get; init; } = DemoMode.Scenario;

    public int? Seed { get; init; }

    public TimeSpan Duration { get; init; } = ScenarioSettings.DefaultDuration;

    public bool Json { get; init; }

    public bool Dashboard { get; init; }

    public string? Redis { get; init; }

    public int Instances { get; init; } = 1;

    /// <summary>Fleet members only: this process's number in the fleet (2 to N).</summary>
    public int Instance { get; init; } = 1;

    /// <summary>Fleet members only: the Redis key prefix the whole fleet shares.</summary>
    public string? FleetPrefix { get; init; }

    /// <summary>The seed of the chosen mode.</summary>
    public int EffectiveSeed => Seed ?? (Mode == DemoMode.Exercise ? ExerciseSettings.DefaultSeed : ScenarioSettings.DefaultSeed);
}
