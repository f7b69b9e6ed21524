namespace Tripswitch.Controller;

/// <summary>
/// The only place an open period is computed: the recovery timeout with backoff for the open attempt and jitter, or
/// the user's <see cref="CircuitBreakerOptions.BreakDurationGenerator"/>; at least a Retry-After hint; capped. The state
/// machine uses it when the circuit opens on its own, and a fleet uses it through
/// <see cref="Sharing.SharedCircuit.ComputeOpenPeriod"/>, so every instance applies the same policy.
/// </summary>
/// <remarks>
/// Immutable: made from the circuit's validated options (shared with the other circuits of a registry that run with
/// the same ones, so the circuit's name comes separately) and replaced as a whole when they change. It runs
/// user code (the generator, the Retry-After extractor): never call it under a lock.
/// </remarks>
internal sealed class BreakDurationPolicy(CircuitBreakerOptions options, string circuitName)
{
    /// <summary>The longest open period, hints included.</summary>
    public TimeSpan Max { get; } = options.EffectiveMaxRecoveryTimeout;

    /// <summary>The open period for <paramref name="openAttempt"/> (1 when a closed circuit opens, one more per failed probe since), at least the capped <paramref name="hint"/>.</summary>
    public TimeSpan OpenPeriod(int openAttempt, Exception? cause, TimeSpan? hint)
    {
        TimeSpan period = Compute(openAttempt, cause);
        return hint is { } h && CapHint(h) > period ? CapHint(h) : period;
    }

    /// <summary>A Retry-After hint as an open period: never negative, never above <see cref="Max"/>.</summary>
    public TimeSpan CapHint(TimeSpan hint) => hint <= TimeSpan.Zero ? TimeSpan.Zero : hint > Max ? Max : hint;

    /// <summary>The Retry-After hint a failure carries: from <see cref="IRetryAfterHint"/>, else the options' extractor; a throwing extractor gives none.</summary>
    public TimeSpan? ExtractHint(Exception? exception)
    {
        if (exception is null)
        {
            return null;
        }

        if (exception is IRetryAfterHint { RetryAfter: { } hinted })
        {
            return hinted;
        }

        try
        {
            return options.RetryAfterExtractor?.Invoke(exception);
        }
#pragma warning disable CA1031 // A throwing extractor must not lose the failure (or a probe slot): the hint is just absent.
        catch (Exception)
#pragma warning restore CA1031
        {
            return null;
        }
    }

    private TimeSpan Compute(int openAttempt, Exception? cause)
    {
        double ticks = options.RecoveryTimeout.Ticks * Math.Pow(options.RecoveryBackoffMultiplier, Math.Max(0, openAttempt - 1));
        ticks = Math.Min(ticks, Max.Ticks);
        if (options.RecoveryJitter > 0)
        {
            ticks *= 1 + (options.RecoveryJitter * ((2 * Random.Shared.NextDouble()) - 1));
        }

        TimeSpan duration = Clamp(TimeSpan.FromTicks((long)ticks));
        if (options.BreakDurationGenerator is { } generator)
        {
            try
            {
                duration = Clamp(generator(new BreakDurationArguments(circuitName, openAttempt, duration, cause)));
            }
#pragma warning disable CA1031 // A throwing generator must not lose the caller's outcome; the computed period stands.
            catch (Exception)
#pragma warning restore CA1031
            {
            }
        }

        return duration;
    }

    private TimeSpan Clamp(TimeSpan value)
        => value < CircuitBreakerDefaults.MinRecoveryTimeout ? CircuitBreakerDefaults.MinRecoveryTimeout : value > Max ? Max : value;
}
