using Microsoft.Extensions.Time.Testing;
using Tripswitch.AI.Tests.Infrastructure;
using Xunit;
using static Tripswitch.AI.Tests.Infrastructure.Circuits;

namespace Tripswitch.AI.Tests;

/// <summary>The chat client classifies outcomes with the permit's one classifier: a throwing ShouldHandle surfaces as in Execute.</summary>
public sealed class CircuitBreakerChatClientClassifierTests
{
    private const string Key = "openai/gpt-4.1";
    private readonly FakeTimeProvider _time = new();
    private readonly ScriptedChatClient _primary = new("openai", "gpt-4.1");
    private readonly ScriptedChatClient _fallback = new("openai", "gpt-4.1-mini");

    private CircuitBreakerRegistry ThrowingShouldHandle(bool fallbackOnFailure) => Registry(_time, o =>
    {
        o.FailureThreshold = 1;
        o.FallbackOnFailure = fallbackOnFailure;
        o.ShouldHandle = _ => throw new PredicateBugException();
    });

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task GetResponseAsync_ShouldHandleThrows_SurfacesThePredicatesExceptionAndCountsAFailure(bool fallbackOnFailure)
    {
        CircuitBreakerRegistry registry = ThrowingShouldHandle(fallbackOnFailure);
        using var client = new CircuitBreakerChatClient(_primary, registry, new CircuitBreakerChatClientOptions { FallbackClient = _fallback });
        _primary.AlwaysThrow(new InvalidOperationException("HTTP 500"));

        await Assert.ThrowsAsync<PredicateBugException>(() => client.GetResponseAsync(Hello, cancellationToken: Token));

        Assert.Equal(0, _fallback.Calls);
        Assert.Equal(1, registry.Get(Key).GetSummary().Failed);
        Assert.Equal(CircuitState.Open, registry.Get(Key).State);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_ShouldHandleThrows_SurfacesThePredicatesExceptionAndCountsAFailure()
    {
        CircuitBreakerRegistry registry = ThrowingShouldHandle(fallbackOnFailure: true);
        using var client = new CircuitBreakerChatClient(_primary, registry, new CircuitBreakerChatClientOptions { FallbackClient = _fallback });
        _primary.StreamWith = (_, _) => Streams.ThenThrow(0, new InvalidOperationException("HTTP 500"));

        await Assert.ThrowsAsync<PredicateBugException>(async () =>
        {
            await foreach (var update in client.GetStreamingResponseAsync(Hello, cancellationToken: Token))
            {
                _ = update;
            }
        });

        Assert.Equal(0, _fallback.Calls);
        Assert.Equal(1, registry.Get(Key).GetSummary().Failed);
    }

    private sealed class PredicateBugException : Exception
    {
        public PredicateBugException()
            : base("ShouldHandle has a bug")
        {
        }
    }
}
