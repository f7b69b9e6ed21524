using System.Net;
using System.Text;
using Tripswitch.Gateway.Tests.Infrastructure;
using Tripswitch.Testing;
using Xunit;

namespace Tripswitch.Gateway.Tests.Security;

/// <summary>
/// A web page cannot drive the gateway, even in anonymous mode: a body that is not JSON (what a page may POST cross-site
/// without a preflight) gets 415, a foreign <c>Host</c> (DNS rebinding) gets 400, a foreign <c>Origin</c> gets 403, and
/// nothing is forwarded. Pages from <c>AllowedOrigins</c> get CORS answers; clients without <c>Origin</c> are unaffected.
/// </summary>
public sealed class BrowserTests : IAsyncLifetime
{
    private const string ChatBody = """{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hi"}]}""";
    private const string AppOrigin = "https://app.example.com";
    private ScriptedServer _upstream = null!;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => _upstream = await ScriptedServer.StartAsync();

    public async ValueTask DisposeAsync() => await _upstream.DisposeAsync();

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/x-www-form-urlencoded")]
    [InlineData("multipart/form-data; boundary=x")]
    [InlineData(null)]
    public async Task PostWithoutJsonContentType_Gets415_AndNothingIsForwarded(string? contentType)
    {
        await using GatewayHarness gateway = await StartAnonymousAsync();
        using HttpClient client = gateway.HttpClient(key: null);
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(ChatBody));
        if (contentType is not null)
        {
            content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        }

        HttpResponseMessage response = await client.PostAsync("v1/chat/completions", content, Token);

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Contains("\"code\":\"unsupported_media_type\"", await response.Content.ReadAsStringAsync(Token), StringComparison.Ordinal);
        Assert.Empty(_upstream.Received);
    }

    [Theory]
    [InlineData("application/json")]
    [InlineData("application/json; charset=utf-8")]
    [InlineData("Application/JSON")]
    public async Task PostWithJsonContentType_IsForwarded(string contentType)
    {
        await using GatewayHarness gateway = await StartAnonymousAsync();
        using HttpClient client = gateway.HttpClient(key: null);
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(ChatBody));
        content.Headers.TryAddWithoutValidation("Content-Type", contentType);

        HttpResponseMessage response = await client.PostAsync("v1/chat/completions", content, Token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Single(_upstream.Received);
    }

    [Theory]
    [InlineData("evil.example")]
    [InlineData("evil.example:{port}")]
    [InlineData("127.0.0.1.evil.example:{port}")]
    public async Task ForeignHost_OnALoopbackBinding_Gets400_AndNothingIsForwarded(string host)
    {
        await using GatewayHarness gateway = await StartAnonymousAsync();

        HttpResponseMessage response = await SendAsync(gateway, HttpMethod.Post, "v1/chat/completions", h => h.Host = host.Replace("{port}", gateway.Address.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Empty(_upstream.Received);
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("localhost")]
    [InlineData("[::1]")]
    public async Task LoopbackHostNames_OnALoopbackBinding_AreAnswered(string host)
    {
        await using GatewayHarness gateway = await StartAnonymousAsync();

        HttpResponseMessage response = await SendAsync(gateway, HttpMethod.Post, "v1/chat/completions", h => h.Host = $"{host}:{gateway.Address.Port}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task ConfiguredAllowedHosts_Wins_OverTheBinding()
    {
        await using GatewayHarness gateway = await StartAnonymousAsync(c => c["AllowedHosts"] = "gateway.example");

        HttpResponseMessage loopback = await SendAsync(gateway, HttpMethod.Post, "v1/chat/completions");
        HttpResponseMessage named = await SendAsync(gateway, HttpMethod.Post, "v1/chat/completions", h => h.Host = "gateway.example");

        Assert.Equal(HttpStatusCode.BadRequest, loopback.StatusCode);
        Assert.Equal(HttpStatusCode.OK, named.StatusCode);
        Assert.Single(_upstream.Received);
    }

    [Theory]
    [InlineData("POST", "v1/chat/completions")]
    [InlineData("GET", "v1/models")]
    public async Task ForeignOrigin_WithNoAllowedOrigins_Gets403_AndNothingIsForwarded(string method, string path)
    {
        await using GatewayHarness gateway = await StartAnonymousAsync();

        HttpResponseMessage response = await SendAsync(gateway, new HttpMethod(method), path, h => h.Add("Origin", "https://evil.example"));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("\"code\":\"origin_not_allowed\"", await response.Content.ReadAsStringAsync(Token), StringComparison.Ordinal);
        Assert.False(response.Headers.Contains("Access-Control-Allow-Origin"));
        Assert.Empty(_upstream.Received);
    }

    [Fact]
    public async Task NoOrigin_IsUnaffected_ByAllowedOrigins()
    {
        await using GatewayHarness gateway = await StartAnonymousAsync(c => c["Gateway:AllowedOrigins:0"] = AppOrigin);

        HttpResponseMessage response = await SendAsync(gateway, HttpMethod.Post, "v1/chat/completions");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(response.Headers.Contains("Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task AllowedOrigin_IsAnswered_WithCorsHeaders_AndAnotherOrigin_Gets403()
    {
        await using GatewayHarness gateway = await StartAnonymousAsync(c => c["Gateway:AllowedOrigins:0"] = AppOrigin);

        HttpResponseMessage allowed = await SendAsync(gateway, HttpMethod.Post, "v1/chat/completions", h => h.Add("Origin", AppOrigin));
        HttpResponseMessage other = await SendAsync(gateway, HttpMethod.Post, "v1/chat/completions", h => h.Add("Origin", "https://app.example.com.evil.example"));

        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        Assert.Equal(AppOrigin, Assert.Single(allowed.Headers.GetValues("Access-Control-Allow-Origin")));
        string exposed = string.Join(',', allowed.Headers.GetValues("Access-Control-Expose-Headers"));
        Assert.Contains("X-Tripswitch-Circuit", exposed, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("x-ratelimit-remaining-requests", exposed, StringComparison.OrdinalIgnoreCase);
        Assert.False(allowed.Headers.Contains("Access-Control-Allow-Credentials"));
        Assert.Equal(HttpStatusCode.Forbidden, other.StatusCode);
        Assert.Single(_upstream.Received);
    }

    [Fact]
    public async Task Preflight_FromAnAllowedOrigin_IsAnsweredWithoutAKey_IncludingTheOpenAIClientsHeaders()
    {
        // With client keys: the preflight carries none, so CORS must answer it before authorization.
        await using GatewayHarness gateway = await GatewayHarness.StartAsync(c => c["Gateway:AllowedOrigins:0"] = AppOrigin, new Uri(_upstream.BaseAddress, "v1"));

        HttpResponseMessage response = await SendAsync(gateway, HttpMethod.Options, "v1/chat/completions", h =>
        {
            h.Add("Origin", AppOrigin);
            h.Add("Access-Control-Request-Method", "POST");
            h.Add("Access-Control-Request-Headers", "authorization, content-type, openai-beta, x-stainless-os, x-stainless-retry-count, x-stainless-some-future-header");
        }, key: null);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal(AppOrigin, Assert.Single(response.Headers.GetValues("Access-Control-Allow-Origin")));
        string allowedHeaders = string.Join(',', response.Headers.GetValues("Access-Control-Allow-Headers"));
        foreach (string header in new[] { "authorization", "content-type", "openai-beta", "x-stainless-os", "x-stainless-retry-count", "x-stainless-some-future-header" })
        {
            Assert.Contains(header, allowedHeaders, StringComparison.OrdinalIgnoreCase);
        }

        Assert.Contains("POST", string.Join(',', response.Headers.GetValues("Access-Control-Allow-Methods")), StringComparison.Ordinal);
        Assert.Empty(_upstream.Received);
    }

    [Fact]
    public async Task Preflight_FromAnotherOrigin_IsNotAllowed()
    {
        await using GatewayHarness gateway = await GatewayHarness.StartAsync(c => c["Gateway:AllowedOrigins:0"] = AppOrigin, new Uri(_upstream.BaseAddress, "v1"));

        HttpResponseMessage response = await PreflightAsync(gateway, "https://evil.example", "content-type");

        Assert.False(response.Headers.Contains("Access-Control-Allow-Origin"), $"{(int)response.StatusCode}: {response.Headers}");
        Assert.Empty(_upstream.Received);
    }

    [Fact]
    public async Task Preflight_ForAHeaderNotListed_DoesNotAllowIt()
    {
        await using GatewayHarness gateway = await GatewayHarness.StartAsync(c => c["Gateway:AllowedOrigins:0"] = AppOrigin, new Uri(_upstream.BaseAddress, "v1"));

        HttpResponseMessage response = await PreflightAsync(gateway, AppOrigin, "content-type, x-secret-header");

        string allowedHeaders = response.Headers.TryGetValues("Access-Control-Allow-Headers", out IEnumerable<string>? values) ? string.Join(',', values) : "";
        Assert.DoesNotContain("x-secret-header", allowedHeaders, StringComparison.OrdinalIgnoreCase);
        Assert.Empty(_upstream.Received);
    }

    private static Task<HttpResponseMessage> PreflightAsync(GatewayHarness gateway, string origin, string headers)
        => SendAsync(gateway, HttpMethod.Options, "v1/chat/completions", h =>
        {
            h.Add("Origin", origin);
            h.Add("Access-Control-Request-Method", "POST");
            h.Add("Access-Control-Request-Headers", headers);
        }, key: null);

    private Task<GatewayHarness> StartAnonymousAsync(Action<Dictionary<string, string?>>? configure = null)
        => GatewayHarness.StartAsync(
            c =>
            {
                c.Remove("Gateway:ClientKeys:0");
                c["Gateway:AllowAnonymous"] = "true";
                configure?.Invoke(c);
            },
            new Uri(_upstream.BaseAddress, "v1"));

    private static async Task<HttpResponseMessage> SendAsync(GatewayHarness gateway, HttpMethod method, string path, Action<System.Net.Http.Headers.HttpRequestHeaders>? headers = null, string? key = null)
    {
        using HttpClient client = gateway.HttpClient(key);
        using var request = new HttpRequestMessage(method, path)
        {
            Content = method == HttpMethod.Post ? new StringContent(ChatBody, Encoding.UTF8, "application/json") : null,
        };
        headers?.Invoke(request.Headers);
        HttpResponseMessage response = await client.SendAsync(request, Token);
        await response.Content.LoadIntoBufferAsync(Token);
        return response;
    }
}
