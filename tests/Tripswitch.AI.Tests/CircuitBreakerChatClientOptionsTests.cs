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
    public async Task Constructor_TimeToFirstTokenThresholdAtTheBounds_IsAcceptedAndApplied(int milliseconds)
    {
        // Accepted, and in force: a first token exactly at the bound is a success, one tick later a slow call.
        var time = new FakeTimeProvider();
        var registry = Circuits.Registry(time, o => o.FailureThreshold = 1);
        using var inner = new ScriptedChatClient();
        TimeSpan threshold = TimeSpan.FromMilliseconds(milliseconds);
        using var client = new CircuitBreakerChatClient(inner, registry, new CircuitBreakerChatClientOptions { TimeToFirstTokenThreshold = threshold });
        CircuitBreaker circuit = client.GetCircuit();

        inner.StreamWith = (_, _) => Streams.Timed(time, firstTokenAfter: threshold, between: TimeSpan.Zero, "on time");
        await Streams.ReadAllAsync(client.GetStreamingResponseAsync(Circuits.Hello, cancellationToken: Circuits.Token), Circuits.Token);
        Assert.Equal((1, 0, CircuitState.Closed), (circuit.GetSummary().Successful, circuit.GetSummary().Failed, circuit.State));

        inner.StreamWith = (_, _) => Streams.Timed(time, firstTokenAfter: threshold + TimeSpan.FromTicks(1), between: TimeSpan.Zero, "late");
        await Streams.ReadAllAsync(client.GetStreamingResponseAsync(Circuits.Hello, cancellationToken: Circuits.Token), Circuits.Token);
        Assert.Equal((1, 1, CircuitState.Open), (circuit.GetSummary().Successful, circuit.GetSummary().Failed, circuit.State));
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
