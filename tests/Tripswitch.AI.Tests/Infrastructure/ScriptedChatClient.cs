using System.Collections.Concurrent;
using Microsoft.Extensions.AI;

namespace Tripswitch.AI.Tests.Infrastructure;

/// <summary>
/// A hand-written <see cref="IChatClient"/> whose answers a test scripts: <see cref="Respond"/> for
/// <c>GetResponseAsync</c>, <see cref="StreamWith"/> for <c>GetStreamingResponseAsync</c>. It records the options of every
/// request and reports metadata (provider and default model) like a real provider's client.
/// </summary>
internal sealed class ScriptedChatClient : IChatClient
{
    private readonly ConcurrentQueue<ChatOptions?> _requests = new();

    public ScriptedChatClient(string? providerName = "test", string? defaultModelId = "model-a")
    {
        Metadata = new ChatClientMetadata(providerName, providerUri: null, defaultModelId);
        Respond = (options, _) => Task.FromResult(Reply($"answer from {options?.ModelId ?? defaultModelId}"));
        StreamWith = (options, cancellationToken) => Streams.Of(["streamed ", "answer"], cancellationToken);
    }

    public ChatClientMetadata Metadata { get; }

    /// <summary>Answers a <c>GetResponseAsync</c> call (options, caller's token).</summary>
    public Func<ChatOptions?, CancellationToken, Task<ChatResponse>> Respond { get; set; }

    /// <summary>Answers a <c>GetStreamingResponseAsync</c> call (options, caller's token).</summary>
    public Func<ChatOptions?, CancellationToken, IAsyncEnumerable<ChatResponseUpdate>> StreamWith { get; set; }

    /// <summary>The options of every request, in order (plain and streamed).</summary>
    public IReadOnlyList<ChatOptions?> Requests => [.. _requests];

    public int Calls => _requests.Count;

    public static ChatResponse Reply(string text) => new(new ChatMessage(ChatRole.Assistant, text));

    /// <summary>Makes every plain request fail with <paramref name="exception"/>.</summary>
    public ScriptedChatClient AlwaysThrow(Exception exception)
    {
        Respond = (_, _) => Task.FromException<ChatResponse>(exception);
        return this;
    }

    /// <summary>Makes every plain request answer <paramref name="text"/>.</summary>
    public ScriptedChatClient AlwaysReply(string text)
    {
        Respond = (_, _) => Task.FromResult(Reply(text));
        return this;
    }

    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        _requests.Enqueue(options);
        return Respond(options, cancellationToken);
    }

    public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        _requests.Enqueue(options);
        return StreamWith(options, cancellationToken);
    }

    public object? GetService(Type serviceType, object? serviceKey = null)
        => serviceKey is null && serviceType.IsInstanceOfType(Metadata) ? Metadata
            : serviceKey is null && serviceType.IsInstanceOfType(this) ? this
            : null;

    public void Dispose()
    {
    }
}
