using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Tripswitch.AI.Tests.Infrastructure;
using Xunit;
using static Tripswitch.AI.Tests.Infrastructure.Circuits;

namespace Tripswitch.AI.Tests.DependencyInjection;

public sealed class TripswitchChatClientBuilderExtensionsTests
{
    private readonly FakeTimeProvider _time = new();
    private readonly ScriptedChatClient _inner = new("openai", "gpt-4.1");

    [Fact]
    public async Task UseCircuitBreaker_RegistryPassed_WrapsTheInnerClientWithItsCircuits()
    {
        CircuitBreakerRegistry registry = Registry(_time);
        using var fallback = new ScriptedChatClient("openai", "gpt-4.1-mini");

        using IChatClient client = _inner.AsBuilder()
            .UseCircuitBreaker(registry, o =>
            {
                o.FallbackClient = fallback;
                o.FallbackModelId = "gpt-4.1-mini";
            })
            .Build();

        CircuitBreakerChatClient middleware = Assert.IsType<CircuitBreakerChatClient>(client);
        Assert.Same(registry.Get("openai/gpt-4.1"), middleware.GetCircuit());
        await client.GetResponseAsync(Hello, cancellationToken: Token);
        Assert.Equal(1, registry.Get("openai/gpt-4.1").GetSummary().Successful);

        registry.Get("openai/gpt-4.1").Isolate();
        Assert.Equal("answer from gpt-4.1-mini", (await client.GetResponseAsync(Hello, cancellationToken: Token)).Text); // the configured fallback
    }

    [Fact]
    public async Task UseCircuitBreaker_NoRegistryPassed_TakesTheOneRegisteredInTheServices()
    {
        CircuitBreakerRegistry registry = Registry(_time);
        var services = new ServiceCollection();
        services.AddSingleton(registry);
        services.AddChatClient(_inner).UseCircuitBreaker();
        await using ServiceProvider provider = services.BuildServiceProvider();

        IChatClient client = provider.GetRequiredService<IChatClient>();
        await client.GetResponseAsync(Hello, new ChatOptions { ModelId = "o3" }, Token);

        Assert.NotNull(client.GetService<CircuitBreakerChatClient>());
        Assert.Equal(1, registry.Get("openai/o3").GetSummary().Successful);
    }

    [Fact]
    public void UseCircuitBreaker_RegistryPassed_WinsOverTheServices()
    {
        CircuitBreakerRegistry passed = Registry(_time);
        CircuitBreakerRegistry registered = Registry(_time);
        var services = new ServiceCollection();
        services.AddSingleton(registered);
        services.AddChatClient(_inner).UseCircuitBreaker(passed);
        using ServiceProvider provider = services.BuildServiceProvider();

        CircuitBreakerChatClient middleware = Assert.IsType<CircuitBreakerChatClient>(provider.GetRequiredService<IChatClient>());

        Assert.Same(passed.Get("openai/gpt-4.1"), middleware.GetCircuit());
    }

    [Fact]
    public void UseCircuitBreaker_NoRegistryAnywhere_FailsWithAClearError()
    {
        ChatClientBuilder builder = _inner.AsBuilder().UseCircuitBreaker();

        InvalidOperationException error = Assert.Throws<InvalidOperationException>(() => builder.Build());

        Assert.Contains("UseCircuitBreaker takes its circuits from the CircuitBreakerRegistry in the container, and there is none", error.Message, StringComparison.Ordinal);
        Assert.Contains("Add the Tripswitch.Hosting package and call services.AddTripswitch(...)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UseCircuitBreaker_NoRegistryInTheServices_FailsWithAClearErrorWhenTheClientIsResolved()
    {
        var services = new ServiceCollection();
        services.AddChatClient(_inner).UseCircuitBreaker();
        using ServiceProvider provider = services.BuildServiceProvider();

        InvalidOperationException error = Assert.Throws<InvalidOperationException>(() => provider.GetRequiredService<IChatClient>());

        Assert.Contains("Add the Tripswitch.Hosting package and call services.AddTripswitch(...)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UseCircuitBreaker_InvalidOption_IsRefusedAtOnceNamingIt()
    {
        // At configuration time, not when the client is first built (with DI, that is the first request that needs it).
        ChatClientBuilder builder = _inner.AsBuilder();

        ArgumentOutOfRangeException refused = Assert.Throws<ArgumentOutOfRangeException>(
            () => builder.UseCircuitBreaker(configure: o => o.TimeToFirstTokenThreshold = TimeSpan.Zero));

        Assert.Equal(nameof(CircuitBreakerChatClientOptions.TimeToFirstTokenThreshold), refused.ParamName);
    }

    [Fact]
    public void UseCircuitBreaker_InvalidOptionInTheServices_IsRefusedWhenRegistered()
    {
        var services = new ServiceCollection();
        ChatClientBuilder builder = services.AddChatClient(_inner);

        Assert.Throws<ArgumentOutOfRangeException>(() => builder.UseCircuitBreaker(configure: o => o.TimeToFirstTokenThreshold = TimeSpan.FromDays(2)));
    }

    [Fact]
    public void UseCircuitBreaker_NullBuilder_Throws()
        => Assert.Equal("builder", Assert.Throws<ArgumentNullException>(() => TripswitchChatClientBuilderExtensions.UseCircuitBreaker(null!)).ParamName);
}
