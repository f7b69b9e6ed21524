using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.AspNetCore.Http;
using Tripswitch.Gateway.Tests.Infrastructure;
using Tripswitch.Testing;
using Xunit;

namespace Tripswitch.Gateway.Tests.Security;

/// <summary>
/// Who may call, what is forwarded, and where: only configured upstreams, only with the provider's key, never the
/// client's; provider keys never in logs or responses.
/// </summary>
public sealed class GatewaySecurityTests : IAsyncLifetime
{
    private const string ChatBody = """{"model":"gpt-4.1","messages":[{"role":"user","content":"Hi"}],"temperature":0.5}""";
    private ScriptedServer _upstream = null!;
    private ScriptedServer _elsewhere = null!;
    private GatewayHarness _gateway = null!;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _upstream = await ScriptedServer.StartAsync();
        _elsewhere = await ScriptedServer.StartAsync();
        _gateway = await GatewayHarness.StartAsync(c => c["Gateway:MaxRequestBodyBytes"] = "4096", new Uri(_upstream.BaseAddress, "v1"));
    }

    public async ValueTask DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
        await _elsewhere.DisposeAsync();
    }

    [Fact]
    public async Task UnknownModel_Gets404ModelNotFound_AndNothingIsForwarded()
    {
        using HttpClient client = _gateway.HttpClient();
        HttpResponseMessage response = await client.PostAsync("v1/chat/completions", Json("""{"model":"gpt-5-secret","messages":[]}"""), Token);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("\"code\":\"model_not_found\"", await response.Content.ReadAsStringAsync(Token), StringComparison.Ordinal);
        Assert.Empty(_upstream.Received);
    }

    [Fact]
    public async Task BodyWithoutModel_Gets400_AndNothingIsForwarded()
    {
        using HttpClient client = _gateway.HttpClient();
        HttpResponseMessage response = await client.PostAsync("v1/chat/completions", Json("not json"), Token);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Empty(_upstream.Received);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task OversizedBody_Gets413_WithOrWithoutContentLength_AndNothingIsForwarded(bool contentLength)
    {
        string big = $$"""{"model":"gpt-4.1","messages":[{"role":"user","content":"{{new string('x', 5000)}}"}]}""";
        using HttpClient client = _gateway.HttpClient();
        HttpContent content = contentLength ? Json(big) : new StreamContent(new NoLengthStream(Encoding.UTF8.GetBytes(big))) { Headers = { ContentType = new("application/json") } };
        HttpResponseMessage response = await client.PostAsync("v1/chat/completions", content, Token);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("request_too_large", await response.Content.ReadAsStringAsync(Token), StringComparison.Ordinal);
        Assert.Empty(_upstream.Received);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("wrong-key-0123456789")]
    [InlineData(GatewayHarness.ProviderKey)]
    [InlineData(GatewayHarness.AdminKey)]
    public async Task MissingOrWrongGatewayKey_Gets401_AndNothingIsForwarded(string? key)
    {
        using HttpClient client = _gateway.HttpClient(key);
        HttpResponseMessage chat = await client.PostAsync("v1/chat/completions", Json(ChatBody), Token);
        HttpResponseMessage models = await client.GetAsync("v1/models", Token);

        Assert.Equal(HttpStatusCode.Unauthorized, chat.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, models.StatusCode);
        Assert.Contains("invalid_api_key", await chat.Content.ReadAsStringAsync(Token), StringComparison.Ordinal);
        Assert.Empty(_upstream.Received);
    }

    [Fact]
    public async Task ForwardedRequest_CarriesTheProviderKey_NotTheClients_AndTheBodyUnchanged()
    {
        using HttpClient client = _gateway.HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions?api-version=1") { Content = Json(ChatBody) };
        request.Headers.Add("api-key", "client-api-key-header");
        request.Headers.Add("OpenAI-Organization", "org-client");
        HttpResponseMessage response = await client.SendAsync(request, Token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        ReceivedRequest received = Assert.Single(_upstream.Received);
        Assert.Equal("/v1/chat/completions", received.Path);
        Assert.Equal("?api-version=1", received.Query);
        Assert.Equal($"Bearer {GatewayHarness.ProviderKey}", received.Headers["Authorization"]);
        Assert.False(received.Headers.ContainsKey("api-key"));
        Assert.False(received.Headers.ContainsKey("OpenAI-Organization"));
        Assert.DoesNotContain(GatewayHarness.ClientKey, string.Join('\n', received.Headers.Values), StringComparison.Ordinal);
        Assert.Equal(ChatBody, Encoding.UTF8.GetString(received.Body));
    }

    [Theory]
    [InlineData("v1/embeddings", "/v1/embeddings")]
    [InlineData("v1/completions", "/v1/completions")]
    [InlineData("v1/responses", "/v1/responses")]
    public async Task EveryEndpoint_GoesToTheSamePathAtTheProvider(string path, string expected)
    {
        using HttpClient client = _gateway.HttpClient();
        HttpResponseMessage response = await client.PostAsync(path, Json("""{"model":"gpt-4o-mini","input":"x"}"""), Token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(expected, Assert.Single(_upstream.Received).Path);
    }

    [Fact]
    public async Task Fallback_ChangesOnlyTheModelValue()
    {
        _gateway.Registry.Get("fake/gpt-4.1").Isolate();
        using HttpClient client = _gateway.HttpClient();
        HttpResponseMessage response = await client.PostAsync("v1/chat/completions", Json(ChatBody), Token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(ChatBody.Replace("\"gpt-4.1\"", "\"gpt-4.1-mini\"", StringComparison.Ordinal), Encoding.UTF8.GetString(Assert.Single(_upstream.Received).Body));
    }

    [Fact]
    public async Task HostHeadersPathTricksAndRedirects_NeverReachAnotherHost()
    {
        const string Answer = """{"id":"chatcmpl-1","object":"chat.completion","choices":[]}""";
        _upstream.RespondWithBody(StatusCodes.Status200OK, Answer, ("Content-Type", "application/json"));
        using var handler = new HttpClientHandler { AllowAutoRedirect = false };
        using var client = new HttpClient(handler) { BaseAddress = _gateway.Address };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", GatewayHarness.ClientKey);
        string elsewhere = _elsewhere.BaseAddress.Authority;

        // Each trick is answered by the configured upstream, which gets the request on its own path and Host.
        int expected = 0;
        foreach (string path in new[] { "v1/chat/completions", $"v1/chat/completions?host={elsewhere}", "v1/chat/completions/../../../v1/chat/completions" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = Json(ChatBody) };
            request.Headers.Host = elsewhere;
            request.Headers.Add("X-Forwarded-Host", elsewhere);
            request.Headers.Add("Forwarded", $"host={elsewhere}");
            using HttpResponseMessage response = await client.SendAsync(request, Token);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(Answer, await response.Content.ReadAsStringAsync(Token));
            Assert.Equal(++expected, _upstream.Received.Count);
        }

        using var absolute = new HttpRequestMessage(HttpMethod.Post, new Uri(_elsewhere.BaseAddress, "v1/chat/completions")) { Content = Json(ChatBody) };
        absolute.Headers.Authorization = new AuthenticationHeaderValue("Bearer", GatewayHarness.ClientKey);
        // An absolute-form target sent to the gateway's socket (as a proxy client would): still only the upstream.
        using var viaProxy = new HttpClient(new HttpClientHandler { Proxy = new WebProxy(_gateway.Address), UseProxy = true, AllowAutoRedirect = false });
        using (HttpResponseMessage proxied = await viaProxy.SendAsync(absolute, Token))
        {
            Assert.Equal(HttpStatusCode.OK, proxied.StatusCode);
            Assert.Equal(Answer, await proxied.Content.ReadAsStringAsync(Token));
            Assert.Equal(++expected, _upstream.Received.Count);
        }

        Assert.All(_upstream.Received, r => Assert.Equal("/v1/chat/completions", r.Path));
        Assert.All(_upstream.Received, r => Assert.Equal(_upstream.BaseAddress.Authority, r.Headers["Host"]));
        Assert.All(_upstream.Received, r => Assert.False(r.Headers.ContainsKey("X-Forwarded-Host")));
        Assert.All(_upstream.Received, r => Assert.False(r.Headers.ContainsKey("Forwarded")));

        // The upstream redirects elsewhere: the gateway neither follows it nor passes its Location on.
        _upstream.RespondWith(context =>
        {
            context.Response.StatusCode = StatusCodes.Status307TemporaryRedirect;
            context.Response.Headers.Location = new Uri(_elsewhere.BaseAddress, "v1/chat/completions").AbsoluteUri;
            return Task.CompletedTask;
        });
        using (var redirected = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions") { Content = Json(ChatBody) })
        using (HttpResponseMessage response = await client.SendAsync(redirected, Token))
        {
            Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
            Assert.Null(response.Headers.Location);
            Assert.Contains("\"code\":\"upstream_redirect\"", await response.Content.ReadAsStringAsync(Token), StringComparison.Ordinal);
        }

        Assert.True(_upstream.Received.Count > expected, "the redirecting upstream was asked");
        Assert.Empty(_elsewhere.Received);
    }

    [Fact]
    public async Task ProviderKey_NeverAppearsInLogsOrResponses()
    {
        var bodies = new StringBuilder();
        using HttpClient client = _gateway.HttpClient();
        _upstream.RespondWith(static context => { context.Response.StatusCode = 500; return Task.CompletedTask; });
        foreach (string body in new[] { ChatBody, """{"model":"gpt-4o-mini"}""", """{"model":"unknown"}""", "{" })
        {
            HttpResponseMessage response = await client.PostAsync("v1/chat/completions", Json(body), Token);
            bodies.Append(response.Headers).Append(response.Content.Headers).Append(await response.Content.ReadAsStringAsync(Token));
        }

        await _upstream.DisposeAsync(); // now a refused connection
        HttpResponseMessage refused = await client.PostAsync("v1/chat/completions", Json("""{"model":"gpt-4o-mini"}"""), Token);
        bodies.Append(refused.Headers).Append(await refused.Content.ReadAsStringAsync(Token));
        using HttpClient anonymous = _gateway.HttpClient(key: null);
        bodies.Append(await (await anonymous.GetAsync("v1/models", Token)).Content.ReadAsStringAsync(Token));

        Assert.Equal(HttpStatusCode.BadGateway, refused.StatusCode);
        Assert.NotEmpty(_gateway.Logs.Lines);
        Assert.Contains(_gateway.Logs.Lines, l => l.Contains("fake/gpt-4o-mini", StringComparison.Ordinal)); // the logs did see these calls
        Assert.DoesNotContain(GatewayHarness.ProviderKey, _gateway.Logs.AllText, StringComparison.Ordinal);
        Assert.DoesNotContain(GatewayHarness.ClientKey, _gateway.Logs.AllText, StringComparison.Ordinal);
        Assert.DoesNotContain(GatewayHarness.ProviderKey, bodies.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dashboard_NeedsTheAdminKey()
    {
        using HttpClient none = _gateway.HttpClient(key: null);
        using HttpClient client = _gateway.HttpClient();
        using HttpClient admin = _gateway.HttpClient(GatewayHarness.AdminKey);

        Assert.Equal(HttpStatusCode.Unauthorized, (await none.GetAsync("tripswitch/status", Token)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("tripswitch/status", Token)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("tripswitch/status", Token)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await none.GetAsync("health/live", Token)).StatusCode);
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    /// <summary>A body of unknown length (sent chunked), so only the gateway's own counting can refuse it.</summary>
    private sealed class NoLengthStream(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
    }
}
