namespace Tripswitch.Redis;

/// <summary>Options of <see cref="RedisCircuitSharing"/>.</summary>
public sealed class RedisCircuitOptions
{
    /// <summary>The prefix of every key (and of the pub/sub channel), so several applications can share one Redis.</summary>
    /// <value>Defaults to <c>tripswitch:</c>. Must not be empty.</value>
    public string KeyPrefix { get; set; } = "tripswitch:";

    /// <summary>The longest delay before an instance reports its calls' outcomes (they are sent in batches).</summary>
    /// <value>Defaults to 50 milliseconds. Valid range: 1 millisecond to 10 seconds.</value>
    public TimeSpan ReportInterval { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>How often each instance re-reads circuits' shared state (up to 1,000 circuits each time, in turn), the safety net for missed pub/sub messages.</summary>
    /// <value>Defaults to 1 second. Valid range: 10 milliseconds to 10 minutes.</value>
    public TimeSpan ResyncInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long a circuit's keys live after their last use, so abandoned circuits don't stay forever.</summary>
    /// <value>Defaults to 1 day. Valid range: 1 second to 365 days.</value>
    public TimeSpan KeyExpiry { get; set; } = TimeSpan.FromDays(1);

    /// <summary>The source of time for the batching and resync timers (open deadlines use the Redis server's clock).</summary>
    /// <value>Defaults to <see cref="System.TimeProvider.System"/>.</value>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Every problem with these options, as data (option, value, valid range, message); empty when they are valid.</summary>
    /// <returns>The errors.</returns>
    public IReadOnlyList<OptionError> GetValidationErrors()
    {
        const string Owner = nameof(RedisCircuitOptions);
        var errors = new List<OptionError>();
        OptionChecks.CheckNotEmpty(errors, Owner, nameof(KeyPrefix), KeyPrefix);
        OptionChecks.CheckRange(errors, Owner, nameof(ReportInterval), ReportInterval, TimeSpan.FromMilliseconds(1), TimeSpan.FromSeconds(10));
        OptionChecks.CheckRange(errors, Owner, nameof(ResyncInterval), ResyncInterval, TimeSpan.FromMilliseconds(10), TimeSpan.FromMinutes(10));
        OptionChecks.CheckRange(errors, Owner, nameof(KeyExpiry), KeyExpiry, TimeSpan.FromSeconds(1), TimeSpan.FromDays(365));
        OptionChecks.CheckNotNull(errors, Owner, nameof(TimeProvider), TimeProvider, "use TimeProvider.System for real time.");
        return errors;
    }

    /// <summary>Throws the first of <see cref="GetValidationErrors"/>: an <see cref="ArgumentException"/> naming the option and its valid range.</summary>
    /// <exception cref="ArgumentException">An option is invalid.</exception>
    public void Validate() => OptionChecks.ThrowIfAny(GetValidationErrors());
}
