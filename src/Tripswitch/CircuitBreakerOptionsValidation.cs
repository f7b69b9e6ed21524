namespace Tripswitch;

/// <summary>The one validation routine of <see cref="CircuitBreakerOptions"/>: every rule about option values lives here.</summary>
public sealed partial class CircuitBreakerOptions
{
    private const string Owner = nameof(CircuitBreakerOptions);

    /// <summary>
    /// Every problem with these options, as data (option, value, valid range, message), in a stable order; empty when
    /// they are valid. <see cref="Validate()"/> throws the first; configuration validation reports them all.
    /// </summary>
    /// <returns>The errors; empty when the options are valid.</returns>
    public IReadOnlyList<OptionError> GetValidationErrors()
    {
        var errors = new List<OptionError>();
        OptionChecks.CheckNotEmpty(errors, Owner, nameof(Name), Name);
        OptionChecks.CheckDefined(errors, Owner, nameof(Mode), Mode);
        OptionChecks.CheckDefined(errors, Owner, nameof(Rule), Rule);
        OptionChecks.CheckRange(errors, Owner, nameof(FailureThreshold), FailureThreshold, CircuitBreakerDefaults.MinFailureThreshold, CircuitBreakerDefaults.MaxFailureThreshold);
        AddWindowErrors(errors);
        AddSlowCallErrors(errors);
        AddRecoveryErrors(errors);
        OptionChecks.CheckRange(errors, Owner, nameof(SuccessThreshold), SuccessThreshold, CircuitBreakerDefaults.MinSuccessThreshold, CircuitBreakerDefaults.MaxSuccessThreshold);
        OptionChecks.CheckRange(errors, Owner, nameof(HalfOpenMaxCalls), HalfOpenMaxCalls, CircuitBreakerDefaults.MinHalfOpenMaxCalls, CircuitBreakerDefaults.MaxHalfOpenMaxCalls);
        OptionChecks.CheckRange(errors, Owner, nameof(HalfOpenProbeTimeout), HalfOpenProbeTimeout, CircuitBreakerDefaults.MinHalfOpenProbeTimeout, CircuitBreakerDefaults.MaxHalfOpenProbeTimeout);
        OptionChecks.CheckNotNull(errors, Owner, nameof(TimeProvider), TimeProvider, "use TimeProvider.System for real time.");
        return errors;
    }

    private void AddWindowErrors(List<OptionError> errors)
    {
        OptionChecks.CheckRatio(errors, Owner, nameof(FailureRatio), FailureRatio);
        bool throughputInRange = OptionChecks.CheckRange(errors, Owner, nameof(MinimumThroughput), MinimumThroughput, CircuitBreakerDefaults.MinMinimumThroughput, CircuitBreakerDefaults.MaxMinimumThroughput);
        bool windowInRange = OptionChecks.CheckRange(errors, Owner, nameof(WindowSize), WindowSize, CircuitBreakerDefaults.MinWindowSize, CircuitBreakerDefaults.MaxWindowSize);
        OptionChecks.CheckRange(errors, Owner, nameof(SamplingDuration), SamplingDuration, CircuitBreakerDefaults.MinSamplingDuration, CircuitBreakerDefaults.MaxSamplingDuration);
        if (throughputInRange && windowInRange && Rule == FailureRule.CountWindow && MinimumThroughput > WindowSize)
        {
            errors.Add(new OptionError(
                OptionErrorKind.OutOfRange,
                Owner,
                nameof(MinimumThroughput),
                MinimumThroughput,
                $"between {CircuitBreakerDefaults.MinMinimumThroughput} and {nameof(WindowSize)} ({WindowSize}) with the {nameof(FailureRule.CountWindow)} rule, or the window could never trip"));
        }
    }

    private void AddSlowCallErrors(List<OptionError> errors)
    {
        if (SlowCallThreshold is { } slow)
        {
            OptionChecks.CheckRange(errors, Owner, nameof(SlowCallThreshold), slow, CircuitBreakerDefaults.MinSlowCallThreshold, CircuitBreakerDefaults.MaxSlowCallThreshold);
        }

        if (SlowCallRatio is not { } slowRatio || !OptionChecks.CheckRatio(errors, Owner, nameof(SlowCallRatio), slowRatio))
        {
            return;
        }

        if (SlowCallThreshold is null || Rule == FailureRule.ConsecutiveFailures)
        {
            errors.Add(new OptionError(
                OptionErrorKind.Invalid,
                Owner,
                nameof(SlowCallRatio),
                slowRatio,
                $"set only with {nameof(SlowCallThreshold)} and a window rule",
                $"{Owner}.{nameof(SlowCallRatio)} needs {nameof(SlowCallThreshold)} set and a window rule ({nameof(FailureRule.CountWindow)} or {nameof(FailureRule.TimeWindow)}); {nameof(SlowCallThreshold)} was {(SlowCallThreshold is null ? "null" : "set")} and {nameof(Rule)} was {Rule}."));
        }
    }

    private void AddRecoveryErrors(List<OptionError> errors)
    {
        bool recoveryInRange = OptionChecks.CheckRange(errors, Owner, nameof(RecoveryTimeout), RecoveryTimeout, CircuitBreakerDefaults.MinRecoveryTimeout, CircuitBreakerDefaults.MaxRecoveryTimeout);
        if (MaxRecoveryTimeout is { } max && recoveryInRange)
        {
            OptionChecks.CheckRange(errors, Owner, nameof(MaxRecoveryTimeout), max, RecoveryTimeout, CircuitBreakerDefaults.MaxRecoveryTimeout, minName: nameof(RecoveryTimeout));
        }

        OptionChecks.CheckRange(errors, Owner, nameof(RecoveryBackoffMultiplier), RecoveryBackoffMultiplier, CircuitBreakerDefaults.MinRecoveryBackoffMultiplier, CircuitBreakerDefaults.MaxRecoveryBackoffMultiplier);
        if (!(RecoveryJitter >= 0 && RecoveryJitter < 1))
        {
            errors.Add(new OptionError(OptionErrorKind.OutOfRange, Owner, nameof(RecoveryJitter), RecoveryJitter, "at least 0 and less than 1"));
        }
    }
}
