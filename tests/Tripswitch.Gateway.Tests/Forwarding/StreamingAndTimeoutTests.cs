using System.Net;
using System.Text;
using Microsoft.AspNetCore.Http;
using Tripswitch.FakeLlm;
using Tripswitch.Gateway.Tests.Infrastructure;
using Tripswitch.Testing;
using Xunit;

namespace Tripswitch.Gateway.Tests.Forwarding;

/// <summary>Streams pass through as they arrive; an upstream that stays silent past its provider's timeout is a failure a fallback answers.</summary>
public sealed class StreamingAndTimeoutTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ServerSentEvents_ReachTheClient_WhileTheUpstreamIsStillWriting()
    {
        await using ScriptedServer upstream = await ScriptedServer.StartAsync();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        upstream.RespondWith(async context =>
        {
            context.Response.ContentType = "text/event-stream";
            await context.Response.WriteAsync("data: {\"first\":true}\n\n", context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
            await release.Task.WaitAsync(context.RequestAborted); // the rest only after the client saw the first event
            await context.Response.WriteAsync("data: [DONE]\n\n", context.RequestAborted);
        });
        await using GatewayHarness gateway = await GatewayHarness.StartAsync(upstreamOverride: new Uri(upstream.BaseAddress, "v1"));
        using HttpClient client = gateway.HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions")
        {
            Content = new StringContent("""{"model":"gpt-4o-mini","stream":true,"messages":[]}""", Encoding.UTF8, "application/json"),
        };

        using HttpResponseMessage response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, Token);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(Token));
        string? first = await reader.ReadLineAsync(Token);
        release.SetResult();
        string rest = await reader.ReadToEndAsync(Token);

        Assert.Equal("data: {\"first\":true}", first);
        Assert.Contains("data: [DONE]", rest, StringComparison.Ordinal);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task UpstreamSilentPastTheProviderTimeout_IsAFailure_AndTheFallbackAnswers()
    {
        await using GatewayHarness gateway = await GatewayHarness.StartAsync(c => c["Gateway:Providers:fake:Timeout"] = "00:00:00.300");
        FakeLlmHang hang = FakeLlmBehavior.Hang();
        gateway.Upstream.Model("gpt-4.1").Enqueue(hang);
        using HttpClient client = gateway.HttpClient();

        HttpResponseMessage response = await client.PostAsync("v1/chat/completions", new StringContent("""{"model":"gpt-4.1","messages":[]}""", Encoding.UTF8, "application/json"), Token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("fake/gpt-4.1-mini", response.Headers.GetValues("X-Tripswitch-Circuit").Single());
        CircuitSummary summary = gateway.Registry.Get("fake/gpt-4.1").GetSummary();
        Assert.Equal((0, 1), (summary.Successful, summary.Failed));
        await hang.ClientGone.Within("the gateway to let go of the silent upstream");
    }

    [Fact]
    public async Task UpstreamSilentPastTheProviderTimeout_WithoutAFallback_Gets504()
    {
        await using GatewayHarness gateway = await GatewayHarness.StartAsync(c => c["Gateway:Providers:fake:Timeout"] = "00:00:00.300");
        gateway.Upstream.Model("gpt-4o-mini").Enqueue(FakeLlmBehavior.Hang());
        using HttpClient client = gateway.HttpClient();

        HttpResponseMessage response = await client.PostAsync("v1/chat/completions", new StringContent("""{"model":"gpt-4o-mini","messages":[]}""", Encoding.UTF8, "application/json"), Token);

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Contains("upstream_timeout", await response.Content.ReadAsStringAsync(Token), StringComparison.Ordinal);
        Assert.Equal(1, gateway.Registry.Get("fake/gpt-4o-mini").GetSummary().Failed);
    }
}
