using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using OpenAI;
using OpenAI.Chat;
using OpenAI.Models;
using Tripswitch.FakeLlm;
using Tripswitch.Http;
using Xunit;

namespace Tripswitch.Samples.Tests.FakeLlm;

/// <summary>FakeLlm speaks the OpenAI API well enough for the official OpenAI .NET client (2.15.0) to parse every answer.</summary>
public sealed class FakeLlmServerTests
{
    private static readonly DateTimeOffset Start = new(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly FakeTimeProvider _time = new(Start);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task CompleteChat_IsParsedByTheOfficialClient()
    {
        await using FakeLlmServer server = await StartAsync();
        server.Model("gpt-4.1").Always(FakeLlmBehavior.Reply("Paris is the capital of France."));

        ChatCompletion completion = (await Client(server, "gpt-4.1").CompleteChatAsync(
            [new SystemChatMessage("Be brief."), new UserChatMessage("What is the capital of France?")],
            cancellationToken: Token)).Value;

        Assert.Equal("Paris is the capital of France.", Assert.Single(completion.Content).Text);
        Assert.Equal(ChatMessageRole.Assistant, completion.Role);
        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
        Assert.Equal("gpt-4.1", completion.Model);
        Assert.StartsWith("chatcmpl-", completion.Id, StringComparison.Ordinal);
        Assert.Equal(Start, completion.CreatedAt);
        Assert.Equal(8, completion.Usage.InputTokenCount); // words, for a fake: "Be brief." + "What is the capital of France?"
        Assert.Equal(6, completion.Usage.OutputTokenCount);
        Assert.Equal(14, completion.Usage.TotalTokenCount);
        Assert.Equal(1, server.Model("gpt-4.1").Requests);
    }

    [Fact]
    public async Task Streaming_IsParsedByTheOfficialClient()
    {
        await using FakeLlmServer server = await StartAsync();
        server.Model("gpt-4.1").Always(FakeLlmBehavior.Reply("One two three four."));
        var text = new StringBuilder();
        var pieces = new List<string>();
        ChatFinishReason? finish = null;
        ChatTokenUsage? usage = null;
        ChatMessageRole? role = null;

        await foreach (StreamingChatCompletionUpdate update in Client(server, "gpt-4.1").CompleteChatStreamingAsync([new UserChatMessage("Count")], cancellationToken: Token))
        {
            role ??= update.Role;
            foreach (ChatMessageContentPart part in update.ContentUpdate)
            {
                text.Append(part.Text);
                pieces.Add(part.Text);
            }

            if (update.FinishReason is { } reason)
            {
                Assert.Null(finish); // exactly one chunk finishes
                finish = reason;
            }

            usage ??= update.Usage;
            Assert.Equal("gpt-4.1", update.Model);
            Assert.Equal(Start, update.CreatedAt);
        }

        Assert.Equal("One two three four.", text.ToString());
        Assert.Equal(["One ", "two ", "three ", "four."], pieces.Where(p => p.Length > 0));
        Assert.Equal(ChatMessageRole.Assistant, role);
        Assert.Equal(ChatFinishReason.Stop, finish);
        Assert.NotNull(usage); // the client asks for stream_options.include_usage; the usage chunk comes last
        Assert.Equal(4, usage.OutputTokenCount);
    }

    [Fact]
    public async Task RawStream_IsServerSentEventsEndingWithDone()
    {
        await using FakeLlmServer server = await StartAsync();
        server.Model("gpt-4.1").Always(FakeLlmBehavior.Reply("Hi there"));
        using var http = new HttpClient();
        using var content = new StringContent("""{"model":"gpt-4.1","stream":true,"messages":[{"role":"user","content":"Hello"}]}""", Encoding.UTF8, "application/json");

        using HttpResponseMessage response = await http.PostAsync(new Uri(server.BaseAddress, "v1/chat/completions"), content, Token);
        string body = await response.Content.ReadAsStringAsync(Token);

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        string[] events = body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.All(events, e => Assert.StartsWith("data: ", e, StringComparison.Ordinal));
        Assert.Equal("data: [DONE]", events[^1]);
        Assert.Contains("\"object\":\"chat.completion.chunk\"", events[0], StringComparison.Ordinal);
        Assert.Contains("\"delta\":{\"role\":\"assistant\"", events[0], StringComparison.Ordinal);
        Assert.Contains("\"finish_reason\":\"stop\"", events[^2], StringComparison.Ordinal);
        Assert.DoesNotContain("usage", body, StringComparison.Ordinal); // not asked for
    }

    [Fact]
    public async Task Models_ListsEveryModel()
    {
        await using FakeLlmServer server = await FakeLlmServer.StartAsync(new FakeLlmServerOptions { Models = ["model-a", "model-b"], TimeProvider = _time }, Token);
        server.Model("model-c");
        var models = new OpenAIModelClient(new ApiKeyCredential("test"), new OpenAIClientOptions { Endpoint = server.ApiEndpoint });

        OpenAIModelCollection list = (await models.GetModelsAsync(Token)).Value;

        Assert.Equal(["model-a", "model-b", "model-c"], list.Select(m => m.Id));
        Assert.All(list, m => Assert.Equal("tripswitch-fakellm", m.OwnedBy));
    }

    [Fact]
    public async Task UnknownModel_Is404ModelNotFound()
    {
        await using FakeLlmServer server = await StartAsync();

        ClientResultException error = await Assert.ThrowsAsync<ClientResultException>(
            () => Client(server, "gpt-9").CompleteChatAsync([new UserChatMessage("Hi")], cancellationToken: Token));

        Assert.Equal(404, error.Status);
        Assert.Contains("model_not_found", error.Message, StringComparison.Ordinal);
        Assert.Equal(1, server.TotalRequests);
    }

    [Fact]
    public async Task InvalidBody_Is400()
    {
        await using FakeLlmServer server = await StartAsync();
        using var http = new HttpClient();
        using var content = new StringContent("{not json", Encoding.UTF8, "application/json");

        using HttpResponseMessage response = await http.PostAsync(new Uri(server.ApiEndpoint + "/chat/completions"), content, Token);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("invalid_request_error", await response.Content.ReadAsStringAsync(Token), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ScriptsAndCounts_ArePerModel()
    {
        await using FakeLlmServer server = await StartAsync();
        server.Model("gpt-4.1").Enqueue(FakeLlmBehavior.ServerError(), times: 2).Always(FakeLlmBehavior.Reply("big"));
        server.Model("gpt-4.1-mini").Always(FakeLlmBehavior.Reply("small"));
        ChatClient big = Client(server, "gpt-4.1");
        ChatClient small = Client(server, "gpt-4.1-mini");

        Assert.Equal(500, (await Assert.ThrowsAsync<ClientResultException>(() => big.CompleteChatAsync([new UserChatMessage("1")], cancellationToken: Token))).Status);
        Assert.Equal("small", (await small.CompleteChatAsync([new UserChatMessage("2")], cancellationToken: Token)).Value.Content[0].Text);
        Assert.Equal(500, (await Assert.ThrowsAsync<ClientResultException>(() => big.CompleteChatAsync([new UserChatMessage("3")], cancellationToken: Token))).Status);
        Assert.Equal("big", (await big.CompleteChatAsync([new UserChatMessage("4")], cancellationToken: Token)).Value.Content[0].Text);

        Assert.Equal(3, server.Model("gpt-4.1").Requests);
        Assert.Equal(1, server.Model("gpt-4.1-mini").Requests);
        Assert.Equal(0, server.Model("gpt-4o-mini").Requests);
        Assert.Equal(4, server.TotalRequests);
        Assert.Equal(0, server.Model("gpt-4.1").Queued);
    }

    [Fact]
    public async Task RateLimited_SendsOpenAIsHeaders()
    {
        await using FakeLlmServer server = await StartAsync();
        server.Model("gpt-4.1").Always(FakeLlmBehavior.RateLimited(TimeSpan.FromSeconds(2.5)));

        ClientResultException error = await Assert.ThrowsAsync<ClientResultException>(
            () => Client(server, "gpt-4.1").CompleteChatAsync([new UserChatMessage("Hi")], cancellationToken: Token));

        Assert.Equal(429, error.Status);
        Assert.Contains("rate_limit_exceeded", error.Message, StringComparison.Ordinal);
        PipelineResponseHeaders headers = error.GetRawResponse()!.Headers;
        Assert.Equal("3", Header(headers, "Retry-After")); // whole seconds, rounded up
        Assert.Equal("2500", Header(headers, "retry-after-ms"));
        Assert.Equal("0", Header(headers, "x-ratelimit-remaining-requests"));
        Assert.Equal("2.5s", Header(headers, "x-ratelimit-reset-requests"));
    }

    [Fact]
    public async Task RateLimited_WithRawHeaders_SendsExactlyThose()
    {
        await using FakeLlmServer server = await StartAsync();
        server.Model("gpt-4.1").Always(FakeLlmBehavior.RateLimited(("Retry-After", "soon")));

        ClientResultException error = await Assert.ThrowsAsync<ClientResultException>(
            () => Client(server, "gpt-4.1").CompleteChatAsync([new UserChatMessage("Hi")], cancellationToken: Token));

        PipelineResponseHeaders headers = error.GetRawResponse()!.Headers;
        Assert.Equal("soon", Header(headers, "Retry-After"));
        Assert.False(headers.TryGetValue("retry-after-ms", out _));
    }

    [Theory]
    [InlineData(360_000, "6m0s")]
    [InlineData(1_500, "1.5s")]
    [InlineData(20, "20ms")]
    [InlineData(90_500, "1m30.5s")]
    [InlineData(3_600_000, "1h0m0s")]
    [InlineData(5_423_250, "1h30m23.25s")]
    public void FormatDuration_WritesOpenAIsFormat_WhichTheHandlerReadsBack(long milliseconds, string expected)
    {
        string text = FakeLlmBehavior.FormatDuration(TimeSpan.FromMilliseconds(milliseconds));

        Assert.Equal(expected, text);
        Assert.True(RetryAfterParser.TryParseDuration(text, out TimeSpan parsed));
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), parsed);
    }

    [Fact]
    public async Task Hang_HoldsTheRequestUntilReleased()
    {
        await using FakeLlmServer server = await StartAsync();
        FakeLlmHang hang = FakeLlmBehavior.Hang();
        server.Model("gpt-4.1").Always(hang);

        Task<ClientResult<ChatCompletion>> call = Client(server, "gpt-4.1").CompleteChatAsync([new UserChatMessage("Hi")], cancellationToken: Token);
        await hang.Entered.WaitAsync(Token);
        Assert.False(call.IsCompleted);
        Assert.Equal(1, hang.Waiting);

        Assert.True(hang.Release(FakeLlmBehavior.Reply("Sorry, I was thinking.")));
        Assert.Equal("Sorry, I was thinking.", (await call).Value.Content[0].Text);
        Assert.Equal(0, hang.Waiting);
        Assert.False(hang.Release(FakeLlmBehavior.ServerError())); // released once
    }

    [Fact]
    public async Task Hang_ClientCancels_TheServerSeesItGo()
    {
        await using FakeLlmServer server = await StartAsync();
        FakeLlmHang hang = FakeLlmBehavior.Hang();
        server.Model("gpt-4.1").Always(hang);
        using var cancellation = new CancellationTokenSource();

        Task<ClientResult<ChatCompletion>> call = Client(server, "gpt-4.1").CompleteChatAsync([new UserChatMessage("Hi")], cancellationToken: cancellation.Token);
        await hang.Entered.WaitAsync(Token);
        await cancellation.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        await hang.ClientGone.WaitAsync(Token);
        Assert.Equal(0, hang.Waiting);
    }

    [Fact]
    public async Task Hang_DisposingTheServer_LetsTheRequestGo()
    {
        FakeLlmServer server = await StartAsync();
        FakeLlmHang hang = FakeLlmBehavior.Hang();
        server.Model("gpt-4.1").Always(hang);
        Task<ClientResult<ChatCompletion>> call = Client(server, "gpt-4.1").CompleteChatAsync([new UserChatMessage("Hi")], cancellationToken: Token);
        await hang.Entered.WaitAsync(Token);

        await server.DisposeAsync();

        await Assert.ThrowsAnyAsync<Exception>(() => call);
        Assert.False(hang.ClientGone.IsCompleted); // the server stopped; the client did not go away
    }

    [Fact]
    public async Task FailMidway_Streaming_SendsTheFirstChunksThenCutsTheConnection()
    {
        await using FakeLlmServer server = await StartAsync();
        server.Model("gpt-4.1").Enqueue(FakeLlmBehavior.FailMidway("one two three four five", chunksBeforeFailure: 2));
        var text = new StringBuilder();

        await Assert.ThrowsAnyAsync<IOException>(async () =>
        {
            await foreach (StreamingChatCompletionUpdate update in Client(server, "gpt-4.1").CompleteChatStreamingAsync([new UserChatMessage("Count")], cancellationToken: Token))
            {
                foreach (ChatMessageContentPart part in update.ContentUpdate)
                {
                    text.Append(part.Text);
                }
            }
        });

        Assert.Equal("one two ", text.ToString());

        // The queue is used up: the next request is answered normally.
        ChatCompletion next = (await Client(server, "gpt-4.1").CompleteChatAsync([new UserChatMessage("Again")], cancellationToken: Token)).Value;
        Assert.Equal(FakeModel.DefaultReply("gpt-4.1"), next.Content[0].Text);
    }

    [Fact]
    public async Task FailMidway_NonStreaming_CutsTheBody()
    {
        await using FakeLlmServer server = await StartAsync();
        server.Model("gpt-4.1").Enqueue(FakeLlmBehavior.FailMidway("never finished"));

        await Assert.ThrowsAnyAsync<IOException>(() => Client(server, "gpt-4.1").CompleteChatAsync([new UserChatMessage("Hi")], cancellationToken: Token));
    }

    [Fact]
    public void Behaviors_RefuseInvalidArguments()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => FakeLlmBehavior.Error(200));
        Assert.Throws<ArgumentOutOfRangeException>(() => FakeLlmBehavior.Error(600));
        Assert.Throws<ArgumentOutOfRangeException>(() => FakeLlmBehavior.RateLimited(TimeSpan.FromSeconds(-1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => FakeLlmBehavior.FailMidway("x", -1));
        Assert.Throws<ArgumentNullException>(() => FakeLlmBehavior.Reply(null!));
    }

    private static string? Header(PipelineResponseHeaders headers, string name) => headers.TryGetValue(name, out string? value) ? value : null;

    private Task<FakeLlmServer> StartAsync() => FakeLlmServer.StartAsync(new FakeLlmServerOptions { TimeProvider = _time }, Token);

    /// <summary>A plain official client (no circuit, no retries) pointed at the fake server.</summary>
    private static ChatClient Client(FakeLlmServer server, string model)
        => new(model, new ApiKeyCredential("test"), new OpenAIClientOptions { Endpoint = server.ApiEndpoint, RetryPolicy = new ClientRetryPolicy(maxRetries: 0) });
}
