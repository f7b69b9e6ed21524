using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Http;
using Tripswitch.Gateway.Tests.Infrastructure;
using Tripswitch.Testing;
using Xunit;

namespace Tripswitch.Gateway.Tests.Security;

/// <summary>
/// <c>Gateway:MaxConcurrentRequestsPerClient</c>: a key with that many requests in progress (streams held open by the
/// upstream count until they end) gets 429 with <c>Retry-After: 1</c> and an OpenAI-shaped error, nothing forwarded;
/// another key is not affected; when one of its streams ends the key may call again.
/// </summary>
public sealed class ConcurrencyLimitTests : IAsyncLifetime
{
    private const string OtherKey = "gw-test-key-other-0123456789";
    private const string StreamBody = """{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"Hi"}]}""";
    private readonly ConcurrentQueue<TaskCompletionSource> _held = new(); // one per stream the upstream holds, in arrival order
    private ScriptedServer _upstream = null!;
    private GatewayHarness _gateway = null!;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _upstream = await ScriptedServer.StartAsync();
        // A stream that has started (headers and a first event reach the client) and is held until the test ends it.
        _upstream.RespondWith(async context =>
        {
            var end = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _held.Enqueue(end);
            context.Response.ContentType = "text/event-stream";
            await context.Response.WriteAsync("data: {\"choices\":[]}\n\n", context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
            await end.Task.WaitAsync(context.RequestAborted);
            await context.Response.WriteAsync("data: [DONE]\n\n", context.RequestAborted);
        });
        _gateway = await GatewayHarness.StartAsync(
            c =>
            {
                c["Gateway:ClientKeys:1"] = OtherKey;
                c["Gateway:MaxConcurrentRequestsPerClient"] = "2";
            },
            new Uri(_upstream.BaseAddress, "v1"));
    }

    public async ValueTask DisposeAsync()
    {
        foreach (TaskCompletionSource end in _held)
        {
            end.TrySetResult();
        }

        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    [Fact]
    public async Task ThirdStreamOfAKey_Gets429_AnotherKeyPasses_AndAfterOneEndsTheKeyMayCallAgain()
    {
        using HttpClient client = _gateway.HttpClient();
        using HttpClient other = _gateway.HttpClient(OtherKey);
        using HttpResponseMessage first = await StartStreamAsync(client);
        using HttpResponseMessage second = await StartStreamAsync(client);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);

        using HttpResponseMessage third = await StartStreamAsync(client);

        Assert.Equal(HttpStatusCode.TooManyRequests, third.StatusCode);
        Assert.Equal("1", Assert.Single(third.Headers.GetValues("Retry-After")));
        Assert.Contains("\"code\":\"rate_limit_exceeded\"", await third.Content.ReadAsStringAsync(Token), StringComparison.Ordinal);
        Assert.Equal(2, _upstream.Requests);

        using HttpResponseMessage otherKeys = await StartStreamAsync(other);
        Assert.Equal(HttpStatusCode.OK, otherKeys.StatusCode);
        Assert.Equal(3, _upstream.Requests);

        // End the first stream; the client reads it to its end. The gateway releases the key's slot as its request
        // finishes, which may be a moment after the client saw the last byte: poll (each refused try is forwarded nowhere).
        Assert.True(_held.TryPeek(out TaskCompletionSource? firstEnd));
        firstEnd.SetResult();
        Assert.EndsWith("data: [DONE]\n\n", await first.Content.ReadAsStringAsync(Token), StringComparison.Ordinal);
        HttpResponseMessage? again = null;
        await Eventually.True(
            async () =>
            {
                again?.Dispose();
                again = await StartStreamAsync(client);
                return again.StatusCode != HttpStatusCode.TooManyRequests;
            },
            "a new call of the key after one of its streams ended");

        Assert.Equal(HttpStatusCode.OK, again!.StatusCode);
        Assert.Equal(4, _upstream.Requests);
        again.Dispose();
    }

    [Fact]
    public async Task ClientThatGoesAway_FreesItsSlot()
    {
        using HttpClient client = _gateway.HttpClient();
        using HttpResponseMessage first = await StartStreamAsync(client);
        HttpResponseMessage second = await StartStreamAsync(client);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);

        second.Dispose(); // the client disconnects mid-stream

        HttpResponseMessage? again = null;
        await Eventually.True(
            async () =>
            {
                again?.Dispose();
                again = await StartStreamAsync(client);
                return again.StatusCode != HttpStatusCode.TooManyRequests;
            },
            "a new call of the key after one of its clients went away");
        Assert.Equal(HttpStatusCode.OK, again!.StatusCode);
        again.Dispose();
    }

    private static Task<HttpResponseMessage> StartStreamAsync(HttpClient client)
        => client.SendAsync(
            new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions") { Content = new StringContent(StreamBody, Encoding.UTF8, "application/json") },
            HttpCompletionOption.ResponseHeadersRead,
            Token);
}
