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

    internal void Validate()
    {
        if (string.IsNullOrWhiteSpace(KeyPrefix))
        {
            throw new ArgumentException($"{nameof(RedisCircuitOptions)}.{nameof(KeyPrefix)} must not be empty; it was '{KeyPrefix}'.", nameof(KeyPrefix));
        }

        CircuitBreakerOptions.CheckRange(string.Empty, nameof(ReportInterval), ReportInterval, TimeSpan.FromMilliseconds(1), TimeSpan.FromSeconds(10), owner: nameof(RedisCircuitOptions));
        CircuitBreakerOptions.CheckRange(string.Empty, nameof(ResyncInterval), ResyncInterval, TimeSpan.FromMilliseconds(10), TimeSpan.FromMinutes(10), owner: nameof(RedisCircuitOptions));
        CircuitBreakerOptions.CheckRange(string.Empty, nameof(KeyExpiry), KeyExpiry, TimeSpan.FromSeconds(1), TimeSpan.FromDays(365), owner: nameof(RedisCircuitOptions));
        ArgumentNullException.ThrowIfNull(TimeProvider);
    }
}
