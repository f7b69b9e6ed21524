namespace Tripswitch;

/// <summary>The defaults and limits of every option, in one place (pinned by a test).</summary>
internal static class CircuitBreakerDefaults
{
    public const string Name = "default";

    public const int FailureThreshold = 5;
    public const int MinFailureThreshold = 1;
    public const int MaxFailureThreshold = 1_000_000;

    public static readonly TimeSpan RecoveryTimeout = TimeSpan.FromSeconds(60);
    public static readonly TimeSpan MinRecoveryTimeout = TimeSpan.FromMilliseconds(1);
    public static readonly TimeSpan MaxRecoveryTimeout = TimeSpan.FromDays(1);

    public const int SuccessThreshold = 2;
    public const int MinSuccessThreshold = 1;
    public const int MaxSuccessThreshold = 1_000_000;

    public const int HalfOpenMaxCalls = 1;
    public const int MinHalfOpenMaxCalls = 1;
    public const int MaxHalfOpenMaxCalls = 1_000;

    public const int RegistryCapacity = 10_000;
    public const int MinRegistryCapacity = 1;
    public const int MaxRegistryCapacity = 10_000_000;

    /// <summary>How many recent transitions a circuit remembers for its summary.</summary>
    public const int TransitionLogSize = 64;
}
