using Microsoft.Extensions.AI;
using Microsoft.Extensions.Time.Testing;
using Tripswitch.AI.Tests.Infrastructure;
using Xunit;
using static Tripswitch.AI.Tests.Infrastructure.Circuits;

namespace Tripswitch.AI.Tests;

/// <summary>Which circuit a request goes through: one per model, keyed <c>provider/model</c>.</summary>
public sealed class CircuitBreakerChatClientKeyTests
{
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public async Task GetResponseAsync_RequestNamesAModel_UsesProviderAndRequestModel()
    {
        var inner = new ScriptedChatClient("openai", "gpt-4.1");
        CircuitBreakerRegistry registry = Registry(_time);
        using var client = new CircuitBreakerChatClient(inner, registry);

        await client.GetResponseAsync(Hello, new ChatOptions { ModelId = "gpt-4.1-mini" }, Token);

        Assert.Equal(["openai/gpt-4.1-mini"], registry.Status().Keys);
        Assert.Equal(1, registry.Get("openai/gpt-4.1-mini").GetSummary().Successful);
        Assert.Equal("gpt-4.1-mini", Assert.Single(inner.Requests)?.ModelId); // the request itself is untouched
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("  ")]
    public async Task GetResponseAsync_NoModelInRequest_UsesTheClientsDefaultModel(string? modelId)
    {
        var inner = new ScriptedChatClient("openai", "gpt-4.1");
        CircuitBreakerRegistry registry = Registry(_time);
        using var client = new CircuitBreakerChatClient(inner, registry);

        await client.GetResponseAsync(Hello, modelId is null ? null : new ChatOptions { ModelId = modelId }, Token);

        Assert.Equal(["openai/gpt-4.1"], registry.Status().Keys);
    }

    [Fact]
    public async Task GetResponseAsync_NoProviderNorDefaultModel_UsesChatAndDefault()
    {
        var inner = new ScriptedChatClient(providerName: null, defaultModelId: null);
        CircuitBreakerRegistry registry = Registry(_time);
        using var client = new CircuitBreakerChatClient(inner, registry);

        await client.GetResponseAsync(Hello, cancellationToken: Token);
        await client.GetResponseAsync(Hello, new ChatOptions { ModelId = "m" }, Token);

        Assert.Equal(["chat/default", "chat/m"], registry.Status().Keys.Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("openai", "gpt-4.1", "o3", "openai/o3")]
    [InlineData("openai", "gpt-4.1", null, "openai/gpt-4.1")]
    [InlineData("ollama", null, "llama3", "ollama/llama3")]
    [InlineData(null, "gpt-4.1", null, "chat/gpt-4.1")]
    [InlineData(" ", " ", " ", "chat/default")]
    public void ModelKey_CombinesProviderAndModel(string? provider, string? defaultModel, string? requestModel, string expected)
    {
        var metadata = new ChatClientMetadata(provider, providerUri: null, defaultModel);
        ChatOptions? options = requestModel is null ? null : new ChatOptions { ModelId = requestModel };

        Assert.Equal(expected, CircuitBreakerChatClientOptions.ModelKey(options, metadata));
    }

    [Fact]
    public void ModelKey_NoMetadataNoOptions_IsChatDefault()
        => Assert.Equal("chat/default", CircuitBreakerChatClientOptions.ModelKey(null, null));

    [Fact]
    public async Task GetResponseAsync_CustomKeySelector_GetsTheRequestAndTheInnerClientsMetadata()
    {
        var inner = new ScriptedChatClient("openai", "gpt-4.1");
        CircuitBreakerRegistry registry = Registry(_time);
        var seen = new List<(string? Model, string? Provider)>();
        using var client = new CircuitBreakerChatClient(inner, registry, new CircuitBreakerChatClientOptions
        {
            KeySelector = (options, metadata) =>
            {
                seen.Add((options?.ModelId, metadata?.ProviderName));
                return $"tenant-a/{metadata?.ProviderName}";
            },
        });

        await client.GetResponseAsync(Hello, new ChatOptions { ModelId = "gpt-4.1" }, Token);
        await client.GetResponseAsync(Hello, new ChatOptions { ModelId = "gpt-4.1-mini" }, Token);

        Assert.Equal([("gpt-4.1", "openai"), ("gpt-4.1-mini", "openai")], seen);
        Assert.Equal(["tenant-a/openai"], registry.Status().Keys); // both models share the custom circuit
        Assert.Equal(2, registry.Get("tenant-a/openai").GetSummary().Successful);
    }

    [Fact]
    public async Task GetResponseAsync_TwoModels_HaveIndependentCircuits()
    {
        var inner = new ScriptedChatClient("openai", "gpt-4.1");
        inner.Respond = (options, _) => options?.ModelId == "gpt-4.1"
            ? Task.FromException<ChatResponse>(new InvalidOperationException("HTTP 500"))
            : Task.FromResult(ScriptedChatClient.Reply("mini answers"));
        CircuitBreakerRegistry registry = Registry(_time);
        using var client = new CircuitBreakerChatClient(inner, registry);
        var big = new ChatOptions { ModelId = "gpt-4.1" };
        var mini = new ChatOptions { ModelId = "gpt-4.1-mini" };

        for (int i = 0; i < 2; i++)
        {
            await Assert.ThrowsAsync<InvalidOperationException>(() => client.GetResponseAsync(Hello, big, Token));
            Assert.Equal("mini answers", (await client.GetResponseAsync(Hello, mini, Token)).Text);
        }

        CircuitOpenException rejected = await Assert.ThrowsAsync<CircuitOpenException>(() => client.GetResponseAsync(Hello, big, Token));
        Assert.Equal("openai/gpt-4.1", rejected.CircuitName);
        Assert.Equal("mini answers", (await client.GetResponseAsync(Hello, mini, Token)).Text);
        Assert.Equal(CircuitState.Open, registry.Status()["openai/gpt-4.1"]);
        Assert.Equal(CircuitState.Closed, registry.Status()["openai/gpt-4.1-mini"]);
        Assert.Equal(3, registry.Get("openai/gpt-4.1-mini").GetSummary().Successful);
    }

    [Fact]
    public void GetCircuit_IsTheRegistrysBreakerForTheRequestsKey()
    {
        var inner = new ScriptedChatClient("openai", "gpt-4.1");
        CircuitBreakerRegistry registry = Registry(_time);
        using var client = new CircuitBreakerChatClient(inner, registry);

        Assert.Same(registry.Get("openai/gpt-4.1"), client.GetCircuit());
        Assert.Same(registry.Get("openai/o3"), client.GetCircuit(new ChatOptions { ModelId = "o3" }));
        Assert.Equal("openai/o3", client.GetCircuit(new ChatOptions { ModelId = "o3" }).Name);
    }
}
