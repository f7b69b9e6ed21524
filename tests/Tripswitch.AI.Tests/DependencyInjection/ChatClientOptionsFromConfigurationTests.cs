using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Tripswitch.AI.Tests.Infrastructure;
using Xunit;
using static Tripswitch.AI.Tests.Infrastructure.Circuits;

namespace Tripswitch.AI.Tests.DependencyInjection;

/// <summary>Named chat client options from configuration: bound, validated at start-up, used by <c>UseCircuitBreaker(name)</c>.</summary>
public sealed class ChatClientOptionsFromConfigurationTests
{
    private readonly FakeTimeProvider _time = new();

    private static HostApplicationBuilder Builder(params (string Key, string Value)[] settings)
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings.Select(s => KeyValuePair.Create<string, string?>("Chat:openai:" + s.Key, s.Value)));
        return builder;
    }

    [Fact]
    public async Task Section_BindsTheNamedOptions_AndThePipelineUsesThemWithTheCodesFallbackClient()
    {
        HostApplicationBuilder builder = Builder(("FallbackModelId", "gpt-4.1-mini"), ("TimeToFirstTokenThreshold", "00:00:10"));
        using var fallback = new ScriptedChatClient("openai", "gpt-4o-mini");
        builder.Services.AddSingleton(Registry(_time));
        builder.Services.AddCircuitBreakerChatClientOptions("openai", builder.Configuration.GetSection("Chat:openai"))
            .Configure(o => o.FallbackClient = fallback);
        builder.Services.AddChatClient(new ScriptedChatClient("openai", "gpt-4.1")).UseCircuitBreaker("openai");
        using IHost host = builder.Build();
        await host.StartAsync(Token);

        CircuitBreakerChatClientOptions options = host.Services.GetRequiredService<IOptionsMonitor<CircuitBreakerChatClientOptions>>().Get("openai");
        Assert.Equal(TimeSpan.FromSeconds(10), options.TimeToFirstTokenThreshold);

        IChatClient client = host.Services.GetRequiredService<IChatClient>();
        host.Services.GetRequiredService<CircuitBreakerRegistry>().Get("openai/gpt-4.1").Isolate();
        ChatResponse answer = await client.GetResponseAsync(Hello, cancellationToken: Token);

        Assert.Equal("answer from gpt-4.1-mini", answer.Text);                       // the fallback client set from code
        Assert.Equal("gpt-4.1-mini", Assert.Single(fallback.Requests)?.ModelId);     // asked for the configured model
        await host.StopAsync(Token);
    }

    [Fact]
    public async Task UnknownKey_FailsStartUp_NamingTheOptionsTheKeyAndTheClosestOption()
    {
        HostApplicationBuilder builder = Builder(("FallbackModel", "gpt-4.1-mini"));
        builder.Services.AddCircuitBreakerChatClientOptions("openai", builder.Configuration.GetSection("Chat:openai"));
        using IHost host = builder.Build();

        OptionsValidationException error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(Token));

        // The same sentence as the Tripswitch section's (OptionChecks.CheckKnownOption), not the binder's.
        Assert.Contains(
            "Chat client options 'openai': 'FallbackModel' (at 'Chat:openai:FallbackModel') is not an option of CircuitBreakerChatClientOptions. Did you mean 'FallbackModelId'? Valid options: FallbackModelId, TimeToFirstTokenThreshold.",
            error.Message,
            StringComparison.Ordinal);
        Assert.DoesNotContain("ChatClientOptionsSection", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnparsableValue_FailsStartUp_NamingTheOptionsAndTheKey()
    {
        HostApplicationBuilder builder = Builder(("TimeToFirstTokenThreshold", "ten seconds"));
        builder.Services.AddCircuitBreakerChatClientOptions("openai", builder.Configuration.GetSection("Chat:openai"));
        using IHost host = builder.Build();

        OptionsValidationException error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(Token));

        Assert.Contains("Chat client options 'openai': CircuitBreakerChatClientOptions.TimeToFirstTokenThreshold (at 'Chat:openai:TimeToFirstTokenThreshold') must be a duration", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ThresholdOutOfRange_FailsStartUp_NamingTheOptionsAndTheRange()
    {
        HostApplicationBuilder builder = Builder(("TimeToFirstTokenThreshold", "2.00:00:00"));
        builder.Services.AddCircuitBreakerChatClientOptions("openai", builder.Configuration.GetSection("Chat:openai"));
        using IHost host = builder.Build();

        OptionsValidationException error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(Token));

        Assert.Contains("Chat client options 'openai'", error.Message, StringComparison.Ordinal);
        Assert.Contains("TimeToFirstTokenThreshold must be between", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reload_DoesNotChangeTheOptions_AsDocumented()
    {
        HostApplicationBuilder builder = Builder(("FallbackModelId", "gpt-4.1-mini"));
        builder.Services.AddSingleton(Registry(_time));
        builder.Services.AddCircuitBreakerChatClientOptions("openai", builder.Configuration.GetSection("Chat:openai"));
        using IHost host = builder.Build();
        await host.StartAsync(Token);
        var monitor = host.Services.GetRequiredService<IOptionsMonitor<CircuitBreakerChatClientOptions>>();

        builder.Configuration["Chat:openai:FallbackModelId"] = "gpt-4o-mini";

        Assert.Equal("gpt-4.1-mini", monitor.Get("openai").FallbackModelId);
        await host.StopAsync(Token);
    }

    [Fact]
    public async Task NoRegistry_FailsStartUp_NamingTripswitchHostingAndAddTripswitch()
    {
        HostApplicationBuilder builder = Builder(("FallbackModelId", "gpt-4.1-mini"));
        builder.Services.AddCircuitBreakerChatClientOptions("openai", builder.Configuration.GetSection("Chat:openai"));
        var inner = new ScriptedChatClient("openai", "gpt-4.1");
        builder.Services.AddChatClient(inner).UseCircuitBreaker("openai");
        using IHost host = builder.Build();

        // At start-up, not when the pipeline is first resolved (after "Application started").
        OptionsValidationException error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(Token));

        Assert.Contains("Chat client options 'openai': UseCircuitBreaker takes its circuits from the CircuitBreakerRegistry in the container, and there is none.", error.Message, StringComparison.Ordinal);
        Assert.Contains("Add the Tripswitch.Hosting package and call services.AddTripswitch(...)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UseCircuitBreaker_NamedOptionsNotRegistered_SaysHowToRegisterThem()
    {
        var services = new ServiceCollection();
        services.AddSingleton(Registry(_time));
        services.AddCircuitBreakerChatClientOptions("anthropic");
        using ServiceProvider provider = services.BuildServiceProvider();
        using var inner = new ScriptedChatClient("openai", "gpt-4.1");

        // Options of another name exist; "openai" would silently be the defaults: refused, naming the call that registers them.
        InvalidOperationException error = Assert.Throws<InvalidOperationException>(() => inner.AsBuilder().UseCircuitBreaker("openai").Build(provider));

        Assert.Contains("AddCircuitBreakerChatClientOptions(\"openai\"", error.Message, StringComparison.Ordinal);
    }
}
