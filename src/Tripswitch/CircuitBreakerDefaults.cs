namespace Tripswitch;

/// <summary>The defaults and limits of every option, in one place (pinned by a test).</summary>
internal static class CircuitBreakerDefaults
{
    public const string Name = "default";

    public const int FailureThreshold = 5;
    public const int MinFailureThreshold = 1;
    public const int MaxFailureThreshold = 1_000_000;

    public static readonly TimeSpan RecoveryTimeout = TimeSpan.FromSeconds(60);
    /// <summary>The shortest <see cref="CircuitBreakerOptions.RecoveryTimeout"/>, and the shortest open period any policy may compute.</summary>
    public static readonly TimeSpan MinRecoveryTimeout = TimeSpan.FromMilliseconds(1);

    /// <summary>The longest <see cref="CircuitBreakerOptions.RecoveryTimeout"/> and <see cref="CircuitBreakerOptions.MaxRecoveryTimeout"/>.</summary>
    public static readonly TimeSpan MaxRecoveryTimeout = TimeSpan.FromDays(1);

    /// <summary>The longest open period (backoff, hints) when <see cref="CircuitBreakerOptions.MaxRecoveryTimeout"/> is not set, unless <see cref="CircuitBreakerOptions.RecoveryTimeout"/> is longer.</summary>
    public static readonly TimeSpan DefaultMaxRecoveryTimeout = TimeSpan.FromMinutes(10);

    public const int SuccessThreshold = 2;
    public const int MinSuccessThreshold = 1;
    public const int MaxSuccessThreshold = 1_000_000;

    public const int HalfOpenMaxCalls = 1;
    public const int MinHalfOpenMaxCalls = 1;
    public const int MaxHalfOpenMaxCalls = 1_000;

    public static readonly TimeSpan HalfOpenProbeTimeout = TimeSpan.FromMinutes(2);
    public static readonly TimeSpan MinHalfOpenProbeTimeout = TimeSpan.FromMilliseconds(1);
    public static readonly TimeSpan MaxHalfOpenProbeTimeout = TimeSpan.FromDays(1);

    public static readonly TimeSpan MinSlowCallThreshold = TimeSpan.FromMilliseconds(1);
    public static readonly TimeSpan MaxSlowCallThreshold = TimeSpan.FromDays(1);

    public const double FailureRatio = 0.1;
    public const int MinimumThroughput = 100;
    public const int MinMinimumThroughput = 1;
    public const int MaxMinimumThroughput = 1_000_000;

    public const int WindowSize = 100;
    public const int MinWindowSize = 1;
    public const int MaxWindowSize = 100_000;

    public static readonly TimeSpan SamplingDuration = TimeSpan.FromSeconds(30);
    public static readonly TimeSpan MinSamplingDuration = TimeSpan.FromMilliseconds(100);
    public static readonly TimeSpan MaxSamplingDuration = TimeSpan.FromDays(1);

    /// <summary>How many buckets a time window is divided into.</summary>
    public const int TimeWindowBuckets = 10;

    public const double RecoveryBackoffMultiplier = 1.0;
    public const double MinRecoveryBackoffMultiplier = 1.0;
    public const double MaxRecoveryBackoffMultiplier = 100.0;

    public const int RegistryCapacity = 10_000;
    public const int MinRegistryCapacity = 1;
    public const int MaxRegistryCapacity = 10_000_000;

    /// <summary>How many recent transitions a circuit remembers for its summary.</summary>
    public const int TransitionLogSize = 64;

    /// <summary>With a listener on the duration histogram, one call in this many (per thread) is timed for it.</summary>
    public const int DurationSampleInterval = 16;
}
