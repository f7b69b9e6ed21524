using Microsoft.Extensions.AI;
using Microsoft.Extensions.Time.Testing;
using Tripswitch.AI.Tests.Infrastructure;
using Xunit;

namespace Tripswitch.AI.Tests;

public sealed class CircuitBreakerChatClientOptionsTests
{
    public static TheoryData<TimeSpan> InvalidThresholds =>
    [
        TimeSpan.Zero,
        TimeSpan.FromTicks(-1),
        TimeSpan.FromMilliseconds(1) - TimeSpan.FromTicks(1),
        TimeSpan.FromDays(1) + TimeSpan.FromTicks(1),
        TimeSpan.MaxValue,
    ];

    [Theory]
    [MemberData(nameof(InvalidThresholds))]
    public void Constructor_InvalidTimeToFirstTokenThreshold_IsRefusedNamingTheOption(TimeSpan threshold)
    {
        var registry = new CircuitBreakerRegistry(new CircuitBreakerOptions { TimeProvider = new FakeTimeProvider() });
        using var inner = new ScriptedChatClient();

        ArgumentOutOfRangeException refused = Assert.Throws<ArgumentOutOfRangeException>(
            () => new CircuitBreakerChatClient(inner, registry, new CircuitBreakerChatClientOptions { TimeToFirstTokenThreshold = threshold }));

        Assert.Equal(nameof(CircuitBreakerChatClientOptions.TimeToFirstTokenThreshold), refused.ParamName);
        Assert.Equal(threshold, refused.ActualValue);
        Assert.Contains("CircuitBreakerChatClientOptions.TimeToFirstTokenThreshold must be between 00:00:00.0010000 and 1.00:00:00", refused.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(86_400_000)]
    public void Constructor_TimeToFirstTokenThresholdAtTheBounds_IsAccepted(int milliseconds)
    {
        var registry = new CircuitBreakerRegistry(new CircuitBreakerOptions { TimeProvider = new FakeTimeProvider() });
        using var inner = new ScriptedChatClient();

        using var client = new CircuitBreakerChatClient(inner, registry, new CircuitBreakerChatClientOptions { TimeToFirstTokenThreshold = TimeSpan.FromMilliseconds(milliseconds) });

        Assert.NotNull(client.GetCircuit());
    }

    [Fact]
    public void Defaults_AreNoFallbackNoThresholdAndTheModelKey()
    {
        var options = new CircuitBreakerChatClientOptions();

        Assert.Null(options.KeySelector);
        Assert.Null(options.FallbackClient);
        Assert.Null(options.FallbackModelId);
        Assert.Null(options.TimeToFirstTokenThreshold);
    }
}
