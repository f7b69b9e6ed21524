using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text;
using OpenAI;
using OpenAI.Chat;
using Tripswitch.FakeLlm;
using Tripswitch.Gateway.Tests.Infrastructure;
using Tripswitch.Testing;
using Xunit;

namespace Tripswitch.Gateway.Tests.Forwarding;

/// <summary>The official OpenAI .NET client against the gateway, in front of a scripted FakeLlm upstream on 127.0.0.1.</summary>
public sealed class OpenAIClientTests : IAsyncLifetime
{
    private GatewayHarness _gateway = null!;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => _gateway = await GatewayHarness.StartAsync();

    public ValueTask DisposeAsync() => _gateway.DisposeAsync();

    [Fact]
    public async Task CompleteChat_AnswersThroughTheModelsCircuit_AndNamesIt()
    {
        ClientResult<ChatCompletion> result = await Chat("gpt-4.1").CompleteChatAsync([new UserChatMessage("Hello")], cancellationToken: Token);

        Assert.Equal("Hello from gpt-4.1.", result.Value.Content[0].Text);
        Assert.Equal("gpt-4.1", Header(result.GetRawResponse(), "X-Tripswitch-Model"));
        Assert.Equal("fake/gpt-4.1", Header(result.GetRawResponse(), "X-Tripswitch-Circuit"));
        Assert.Equal(1, _gateway.Registry.Get("fake/gpt-4.1").GetSummary().Successful);
        Assert.Equal(1, _gateway.Upstream.Model("gpt-4.1").Requests);
    }

    [Fact]
    public async Task CompleteChatStreaming_StreamsEveryChunk_AndCountsOneSuccess()
    {
        _gateway.Upstream.Model("gpt-4o-mini").Always(FakeLlmBehavior.Reply("one two three four"));
        var text = new StringBuilder();
        await foreach (StreamingChatCompletionUpdate update in Chat("gpt-4o-mini").CompleteChatStreamingAsync([new UserChatMessage("Hi")], cancellationToken: Token))
        {
            foreach (ChatMessageContentPart part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }
        }

        Assert.Equal("one two three four", text.ToString());
        CircuitSummary summary = _gateway.Registry.Get("fake/gpt-4o-mini").GetSummary();
        Assert.Equal((1, 0), (summary.Successful, summary.Failed));
    }

    [Fact]
    public async Task ServerErrors_TripTheCircuit_ThenTheFallbackAnswers_WithItsHeaders()
    {
        await using GatewayHarness gateway = await GatewayHarness.StartAsync(c => c["Gateway:FallbackOnFailure"] = "false");
        gateway.Upstream.Model("gpt-4.1").Always(FakeLlmBehavior.ServerError());
        ChatClient chat = Chat(gateway, "gpt-4.1");

        for (int i = 0; i < 2; i++)
        {
            ClientResultException error = await Assert.ThrowsAsync<ClientResultException>(() => chat.CompleteChatAsync([new UserChatMessage("Hi")], cancellationToken: Token));
            Assert.Equal(500, error.Status);
        }

        Assert.Equal(CircuitState.Open, gateway.Registry.Get("fake/gpt-4.1").State);
        ClientResult<ChatCompletion> answer = await chat.CompleteChatAsync([new UserChatMessage("Hi")], cancellationToken: Token);

        Assert.Equal("Hello from gpt-4.1-mini.", answer.Value.Content[0].Text);
        Assert.Equal("gpt-4.1-mini", Header(answer.GetRawResponse(), "X-Tripswitch-Model"));
        Assert.Equal("fake/gpt-4.1-mini", Header(answer.GetRawResponse(), "X-Tripswitch-Circuit"));
        Assert.Equal("gpt-4.1", Header(answer.GetRawResponse(), "X-Tripswitch-Fallback-From"));
        Assert.Equal(2, gateway.Upstream.Model("gpt-4.1").Requests); // the open circuit was not called
    }

    [Fact]
    public async Task FailureBeforeAnyByte_IsAnsweredByTheFallback_WhenFallbackOnFailure()
    {
        _gateway.Upstream.Model("gpt-4.1").Enqueue(FakeLlmBehavior.ServerError());

        ClientResult<ChatCompletion> answer = await Chat("gpt-4.1").CompleteChatAsync([new UserChatMessage("Hi")], cancellationToken: Token);

        Assert.Equal("Hello from gpt-4.1-mini.", answer.Value.Content[0].Text);
        Assert.Equal("fake/gpt-4.1-mini", Header(answer.GetRawResponse(), "X-Tripswitch-Circuit"));
        Assert.Equal(1, _gateway.Registry.Get("fake/gpt-4.1").GetSummary().Failed);
    }

    [Fact]
    public async Task EveryCandidateOpen_Gives503_WithRetryAfterOfTheSoonest_AndCircuitOpen()
    {
        _gateway.Registry.Get("fake/gpt-4.1").Isolate();
        CircuitBreaker mini = _gateway.Registry.Get("fake/gpt-4.1-mini");
        _gateway.Upstream.Model("gpt-4.1-mini").Always(FakeLlmBehavior.ServerError());
        ChatClient direct = Chat("gpt-4.1-mini");
        for (int i = 0; i < 2; i++)
        {
            await Assert.ThrowsAsync<ClientResultException>(() => direct.CompleteChatAsync([new UserChatMessage("Hi")], cancellationToken: Token));
        }

        Assert.Equal(CircuitState.Open, mini.State);
        _gateway.Time.Advance(TimeSpan.FromSeconds(12.5)); // 17.5 s of the 30 s left

        ClientResultException error = await Assert.ThrowsAsync<ClientResultException>(() => Chat("gpt-4.1").CompleteChatAsync([new UserChatMessage("Hi")], cancellationToken: Token));

        Assert.Equal(503, error.Status);
        PipelineResponse response = error.GetRawResponse()!;
        Assert.Equal("18", Header(response, "Retry-After"));
        string body = response.Content.ToString();
        Assert.Contains("\"type\":\"circuit_open\"", body, StringComparison.Ordinal);
        Assert.Contains("\"code\":\"circuit_open\"", body, StringComparison.Ordinal);
        Assert.Equal(2, _gateway.Upstream.Model("gpt-4.1-mini").Requests);
        Assert.Equal(0, _gateway.Upstream.Model("gpt-4.1").Requests);
    }

    [Fact]
    public async Task RateLimitWithRetryAfter6_KeepsTheCircuitOpenSixSeconds()
    {
        // The circuit's own recovery is 1 s (set in the Tripswitch section), so only the hint can keep it open 6 s.
        await using GatewayHarness gateway = await GatewayHarness.StartAsync(c => c["Tripswitch:Circuits:fake/gpt-4o-mini:RecoveryTimeout"] = "00:00:01");
        gateway.Upstream.Model("gpt-4o-mini").Enqueue(FakeLlmBehavior.RateLimited(TimeSpan.FromSeconds(6)), times: 2);
        ChatClient chat = Chat(gateway, "gpt-4o-mini");
        for (int i = 0; i < 2; i++)
        {
            ClientResultException limited = await Assert.ThrowsAsync<ClientResultException>(() => chat.CompleteChatAsync([new UserChatMessage("Hi")], cancellationToken: Token));
            Assert.Equal(429, limited.Status);
        }

        gateway.Time.Advance(TimeSpan.FromSeconds(5.9));
        ClientResultException open = await Assert.ThrowsAsync<ClientResultException>(() => chat.CompleteChatAsync([new UserChatMessage("Hi")], cancellationToken: Token));
        Assert.Equal(503, open.Status);
        Assert.Equal("1", Header(open.GetRawResponse()!, "Retry-After"));

        gateway.Time.Advance(TimeSpan.FromSeconds(0.1));
        ClientResult<ChatCompletion> answer = await chat.CompleteChatAsync([new UserChatMessage("Hi")], cancellationToken: Token);
        Assert.Equal("Hello from gpt-4o-mini.", answer.Value.Content[0].Text);
        Assert.Equal(3, gateway.Upstream.Model("gpt-4o-mini").Requests);
    }

    [Fact]
    public async Task StreamCutMidway_IsAFailure_AndTheClientSeesTheBreak()
    {
        _gateway.Upstream.Model("gpt-4o-mini").Enqueue(FakeLlmBehavior.FailMidway("a b c d e f", chunksBeforeFailure: 2));
        var text = new StringBuilder();

        await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await foreach (StreamingChatCompletionUpdate update in Chat("gpt-4o-mini").CompleteChatStreamingAsync([new UserChatMessage("Hi")], cancellationToken: Token))
            {
                foreach (ChatMessageContentPart part in update.ContentUpdate)
                {
                    text.Append(part.Text);
                }
            }
        });

        // What arrived (the connection is aborted, so its last bytes may be lost) is a beginning, never the whole answer.
        Assert.StartsWith(text.ToString(), "a b c d e f", StringComparison.Ordinal);
        Assert.NotEqual("a b c d e f", text.ToString());
        await _gateway.Logs.WaitForForwardedAsync("fake/gpt-4o-mini");
        CircuitSummary summary = _gateway.Registry.Get("fake/gpt-4o-mini").GetSummary();
        Assert.True(summary.Failed == 1, string.Join("\n", _gateway.Logs.Lines.Where(l => l.Contains("Gateway", StringComparison.Ordinal) || l.Contains("Yarp", StringComparison.Ordinal))));
        Assert.Equal((0, 1), (summary.Successful, summary.Failed));
    }

    [Fact]
    public async Task ClientThatDisconnects_CountsAsNeitherSuccessNorFailure()
    {
        for (int i = 1; i <= 3; i++) // more than the failure threshold (2)
        {
            FakeLlmHang hang = FakeLlmBehavior.Hang();
            _gateway.Upstream.Model("gpt-4o-mini").Enqueue(hang);
            using var leave = CancellationTokenSource.CreateLinkedTokenSource(Token);
            Task call = Chat("gpt-4o-mini").CompleteChatAsync([new UserChatMessage("Hi")], cancellationToken: leave.Token);
            await hang.Entered.Within("the upstream to receive the request");
            await leave.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call.Within("the client's cancelled call to end"));
            await _gateway.Logs.WaitForForwardedAsync("fake/gpt-4o-mini", count: i);
        }

        CircuitSummary summary = _gateway.Registry.Get("fake/gpt-4o-mini").GetSummary();
        Assert.Equal((CircuitState.Closed, 0, 0, 3), (summary.State, summary.Successful, summary.Failed, summary.Ignored));
    }

    private ChatClient Chat(string model) => Chat(_gateway, model);

    /// <summary>The official client pointed at the gateway, with its retries off so each call is one request.</summary>
    internal static ChatClient Chat(GatewayHarness gateway, string model)
        => new(model, new ApiKeyCredential(GatewayHarness.ClientKey), new OpenAIClientOptions
        {
            Endpoint = gateway.ApiEndpoint,
            RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
        });

    private static string? Header(PipelineResponse response, string name) => response.Headers.TryGetValue(name, out string? value) ? value : null;
}
