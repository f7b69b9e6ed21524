namespace Tripswitch.Redis.Tests.Infrastructure;

/// <summary>The system clock, but as a host whose wall clock and timestamps are off by the given amounts.</summary>
internal sealed class SkewedTimeProvider(TimeSpan wallClockSkew, TimeSpan timestampSkew) : TimeProvider
{
    private readonly long _timestampOffset = (long)((Int128)timestampSkew.Ticks * System.TimestampFrequency / TimeSpan.TicksPerSecond);

    public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + wallClockSkew;

    public override long GetTimestamp() => System.GetTimestamp() + _timestampOffset;

    public override long TimestampFrequency => System.TimestampFrequency;
}
