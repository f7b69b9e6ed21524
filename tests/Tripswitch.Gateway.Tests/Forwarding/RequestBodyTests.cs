using System.Net;
using System.Net.Http.Headers;
using System.Text;
using CsCheck;
using Microsoft.AspNetCore.Http;
using Tripswitch.Gateway.Configuration;
using Tripswitch.Gateway.Forwarding;
using Tripswitch.Gateway.Tests.Infrastructure;
using Tripswitch.Testing;
using Xunit;

namespace Tripswitch.Gateway.Tests.Forwarding;

/// <summary>
/// Bodies through the real gateway: an ambiguous or invalid body gets 400 and nothing is forwarded; whatever is
/// forwarded names exactly one model, the one that answered; the read buffer follows the bytes received.
/// </summary>
public sealed class RequestBodyTests : IAsyncLifetime
{
    private ScriptedServer _upstream = null!;
    private GatewayHarness _gateway = null!;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _upstream = await ScriptedServer.StartAsync();
        _upstream.RespondWithBody(200, "{}", ("Content-Type", "application/json"));
        _gateway = await GatewayHarness.StartAsync(upstreamOverride: new Uri(_upstream.BaseAddress, "v1"));
    }

    public async ValueTask DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    [Theory]
    [InlineData("""{"model":"gpt-4.1-mini","model":"o1-pro"}""", "duplicate_model")]
    [InlineData("""{"model":"gpt-4.1-mini","mod\u0065l":"o1-pro"}""", "duplicate_model")]
    [InlineData("""{"model":["o1-pro"],"model":"gpt-4.1-mini"}""", "invalid_model")]
    [InlineData("""{"model":"gpt-4.1-mini"}{"model":"o1-pro"}""", "invalid_json")]
    [InlineData("""[{"model":"gpt-4.1-mini"}]""", "invalid_body")]
    [InlineData("""{"messages":[]}""", "missing_model")]
    public async Task AmbiguousOrInvalidBody_Gets400NamingTheProblem_AndNothingIsForwarded(string body, string code)
    {
        HttpResponseMessage response = await PostAsync(Encoding.UTF8.GetBytes(body));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        string error = await response.Content.ReadAsStringAsync(Token);
        Assert.Contains("\"type\":\"invalid_request_error\"", error, StringComparison.Ordinal);
        Assert.Contains($"\"code\":\"{code}\"", error, StringComparison.Ordinal);
        Assert.Empty(_upstream.Received);
    }

    [Fact]
    public async Task Fallback_RewritesTheOneTopLevelModel_NotTheNestedOnes()
    {
        _gateway.Registry.Get("fake/gpt-4.1").Isolate();
        const string body = """{"messages":[{"role":"user","model":"gpt-4.1"}],"mod\u0065l":"gpt-4.1","n":1}""";

        HttpResponseMessage response = await PostAsync(Encoding.UTF8.GetBytes(body));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(
            """{"messages":[{"role":"user","model":"gpt-4.1"}],"mod\u0065l":"gpt-4.1-mini","n":1}""",
            Encoding.UTF8.GetString(Assert.Single(_upstream.Received).Body));
    }

    /// <summary>Hostile bodies end to end (fewer than the parser's property, which runs thousands): never a 500, and every forwarded body names one model, the one that answered.</summary>
    [Fact]
    public async Task HostileBodies_NeverGet500_AndEveryForwardedBodyNamesTheModelThatAnswered()
    {
        _gateway.Registry.Get("fake/gpt-4.1").Isolate(); // gpt-4.1 is answered by its fallback: the rewrite is exercised too
        int forwardedCount = 0;
        await Check.SampleAsync(HostileJson.Bytes, async body =>
        {
            int before = _upstream.Received.Count;
            HttpResponseMessage response = await PostAsync(body);
            ReceivedRequest[] received = [.. _upstream.Received.Skip(before)];

            Assert.Contains(response.StatusCode, new[] { HttpStatusCode.OK, HttpStatusCode.BadRequest, HttpStatusCode.NotFound });
            if (response.StatusCode != HttpStatusCode.OK)
            {
                Assert.Empty(received);
                return;
            }

            Interlocked.Increment(ref forwardedCount);
            LastWinsJson.Reading asked = LastWinsJson.Read(body, GatewayDefaults.MaxRequestBodyDepth);
            LastWinsJson.Reading forwarded = LastWinsJson.Read(Assert.Single(received).Body, GatewayDefaults.MaxRequestBodyDepth);
            string answered = response.Headers.GetValues("X-Tripswitch-Model").Single();
            Assert.True(asked.Unambiguous);
            Assert.True(forwarded.Unambiguous);
            Assert.Equal(answered, forwarded.Model);
            Assert.Equal(asked.Model == "gpt-4.1" ? "gpt-4.1-mini" : asked.Model, answered);
        }, iter: 150, threads: 1);

        Assert.True(forwardedCount >= 10, $"only {forwardedCount} of the samples were forwarded: the generator no longer exercises forwarding");
    }

    [Fact]
    public async Task ReadAsync_GrowsTheBufferWithTheBytesReceived_NotTheDeclaredLength()
    {
        const int limit = 4 * 1024 * 1024;
        byte[] json = Encoding.UTF8.GetBytes("{\"model\":\"gpt-4.1\",\"x\":\"" + new string('x', 100_000) + "\"}");
        var stream = new TricklingStream(json, chunk: 1000);
        var context = new DefaultHttpContext();
        context.Request.Body = stream;
        context.Request.ContentLength = limit; // declared: the whole limit

        using RequestBody? body = await RequestBody.ReadAsync(context.Request, limit, Token);

        Assert.NotNull(body);
        Assert.Equal("gpt-4.1", body.Model);
        // Each read is offered the free part of the buffer: received + offered is the buffer's size, which stays
        // within twice what arrived (or the first buffer), however large the declared length.
        Assert.All(stream.Reads, r => Assert.True(
            r.Received + r.Offered <= Math.Max(2 * r.Received, 2 * GatewayDefaults.InitialRequestBodyBuffer),
            $"buffer of {r.Received + r.Offered} bytes after {r.Received} bytes received"));
    }

    private async Task<HttpResponseMessage> PostAsync(byte[] body)
    {
        using HttpClient client = _gateway.HttpClient();
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return await client.PostAsync("v1/chat/completions", content, Token);
    }

    /// <summary>A body that arrives <c>chunk</c> bytes at a time, recording how much room each read was offered.</summary>
    private sealed class TricklingStream(byte[] data, int chunk) : MemoryStream(data)
    {
        public List<(int Received, int Offered)> Reads { get; } = [];

        public override bool CanSeek => false;

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Reads.Add(((int)Position, buffer.Length));
            return base.ReadAsync(buffer[..Math.Min(buffer.Length, chunk)], cancellationToken);
        }
    }
}
