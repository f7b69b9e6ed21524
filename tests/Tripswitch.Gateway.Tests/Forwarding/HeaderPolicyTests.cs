using System.Net;
using System.Text;
using Tripswitch.Gateway.Tests.Infrastructure;
using Tripswitch.Testing;
using Xunit;

namespace Tripswitch.Gateway.Tests.Forwarding;

/// <summary>
/// Headers cross the gateway by allow-list both ways: the provider sees what describes the request and the client,
/// plus the provider's key (never merged with a client's value); the client sees content, rate-limit and retry
/// headers, never cookies, account ids or the upstream's <c>Server</c>. An upstream redirect is a 502.
/// </summary>
public sealed class HeaderPolicyTests
{
    private const string ChatBody = """{"model":"gpt-4o-mini","messages":[]}""";

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task RequestHeaders_OnlyTheAllowListReachesTheProvider_NotHeadersNamedInConnection()
    {
        await using ScriptedServer upstream = await ScriptedServer.StartAsync();
        await using GatewayHarness gateway = await GatewayHarness.StartAsync(upstreamOverride: new Uri(upstream.BaseAddress, "v1"));
        using HttpClient client = gateway.HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions") { Content = Json(ChatBody) };
        foreach ((string name, string value) in new[]
        {
            ("Via", "1.1 attacker"), ("True-Client-IP", "10.0.0.1"), ("X-Original-URL", "/admin"), ("X-HTTP-Method-Override", "DELETE"),
            ("Cookie", "session=1"), ("X-Custom-Thing", "1"), ("OpenAI-Organization", "org-client"), ("X-Forwarded-For", "10.0.0.2"),
            ("OpenAI-Beta", "assistants=v2"), ("x-stainless-lang", "js"), ("x-stainless-os", "Linux"), ("Idempotency-Key", "k-1"), ("anthropic-version", "2023-06-01"),
        })
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        request.Headers.Connection.Add("x-stainless-os"); // now hop-by-hop: not forwarded, though allow-listed
        request.Headers.UserAgent.ParseAdd("OpenAI/JS 5.0");

        HttpResponseMessage response = await client.SendAsync(request, Token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        IReadOnlyDictionary<string, string> received = Assert.Single(upstream.Received).Headers;
        foreach (string dropped in new[] { "Via", "True-Client-IP", "X-Original-URL", "X-HTTP-Method-Override", "Cookie", "X-Custom-Thing", "OpenAI-Organization", "X-Forwarded-For", "x-stainless-os", "Connection" })
        {
            Assert.False(received.ContainsKey(dropped), $"{dropped} reached the provider");
        }

        Assert.Equal("assistants=v2", received["OpenAI-Beta"]);
        Assert.Equal("js", received["x-stainless-lang"]);
        Assert.Equal("k-1", received["Idempotency-Key"]);
        Assert.Equal("2023-06-01", received["anthropic-version"]);
        Assert.Equal("OpenAI/JS 5.0", received["User-Agent"]);
        Assert.StartsWith("application/json", received["Content-Type"], StringComparison.Ordinal);
        Assert.Equal(ChatBody.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), received["Content-Length"]);
        Assert.Equal($"Bearer {GatewayHarness.ProviderKey}", received["Authorization"]);
    }

    [Fact]
    public async Task CustomKeyHeader_ClientValueIsReplaced_NotMergedWithTheProviderKey()
    {
        await using ScriptedServer upstream = await ScriptedServer.StartAsync();
        await using GatewayHarness gateway = await GatewayHarness.StartAsync(c => c["Gateway:Providers:fake:ApiKeyHeader"] = "x-goog-api-key", new Uri(upstream.BaseAddress, "v1"));
        using HttpClient client = gateway.HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions") { Content = Json(ChatBody) };
        request.Headers.Add("x-goog-api-key", "anything");

        await client.SendAsync(request, Token);

        IReadOnlyDictionary<string, string> received = Assert.Single(upstream.Received).Headers;
        Assert.Equal(GatewayHarness.ProviderKey, received["x-goog-api-key"]);
        Assert.False(received.ContainsKey("Authorization"));
    }

    [Theory]
    [InlineData("x-goog-api-key")] // a provider whose key goes in its own header
    [InlineData("api-key")]
    [InlineData(null)] // a provider with no key at all
    public async Task NoCredentialOfTheClients_ReachesTheProvider_WhereverTheProvidersKeyGoes(string? keyHeader)
    {
        await using ScriptedServer upstream = await ScriptedServer.StartAsync();
        await using GatewayHarness gateway = await GatewayHarness.StartAsync(
            c =>
            {
                if (keyHeader is null)
                {
                    c.Remove("Gateway:Providers:fake:ApiKey");
                }
                else
                {
                    c["Gateway:Providers:fake:ApiKeyHeader"] = keyHeader;
                }
            },
            new Uri(upstream.BaseAddress, "v1"));
        using HttpClient client = gateway.HttpClient(); // its Authorization carries the gateway key
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions") { Content = Json(ChatBody) };
        foreach (string credential in new[] { "api-key", "x-api-key", "x-goog-api-key", "Proxy-Authorization", "Cookie", "X-Auth-Token", "OpenAI-Organization", "OpenAI-Project" })
        {
            request.Headers.TryAddWithoutValidation(credential, $"client-secret-{credential}");
        }

        HttpResponseMessage response = await client.SendAsync(request, Token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        IReadOnlyDictionary<string, string> received = Assert.Single(upstream.Received).Headers;
        foreach ((string name, string value) in received)
        {
            Assert.DoesNotContain("client-secret", value, StringComparison.Ordinal);
            Assert.DoesNotContain(GatewayHarness.ClientKey, value, StringComparison.Ordinal);
            Assert.True(keyHeader is not null && name.Equals(keyHeader, StringComparison.OrdinalIgnoreCase) || !value.Contains(GatewayHarness.ProviderKey, StringComparison.Ordinal), $"the provider key went in {name}");
        }

        Assert.False(received.ContainsKey("Authorization"), "an Authorization reached a provider whose key goes elsewhere (or nowhere)");
        if (keyHeader is not null)
        {
            Assert.Equal(GatewayHarness.ProviderKey, received[keyHeader]);
        }
    }

    [Fact]
    public async Task ProviderWithoutAKey_ForwardsNoCredentialOfTheClients()
    {
        await using ScriptedServer upstream = await ScriptedServer.StartAsync();
        await using GatewayHarness gateway = await GatewayHarness.StartAsync(c => c.Remove("Gateway:Providers:fake:ApiKey"), new Uri(upstream.BaseAddress, "v1"));
        using HttpClient client = gateway.HttpClient(); // sends the gateway key as Authorization
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions") { Content = Json(ChatBody) };
        request.Headers.Add("api-key", "client-api-key");
        request.Headers.Add("x-api-key", "client-x-api-key");

        HttpResponseMessage response = await client.SendAsync(request, Token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        IReadOnlyDictionary<string, string> received = Assert.Single(upstream.Received).Headers;
        Assert.False(received.ContainsKey("Authorization"));
        Assert.False(received.ContainsKey("api-key"));
        Assert.False(received.ContainsKey("x-api-key"));
    }

    [Fact]
    public async Task ResponseHeaders_OnlyTheAllowListReachesTheClient_PlusTheGatewaysOwn()
    {
        await using ScriptedServer upstream = await ScriptedServer.StartAsync();
        upstream.RespondWithBody(200, "{}",
            ("Content-Type", "application/json"), ("Set-Cookie", "__cf_bm=secret; path=/"), ("openai-organization", "org-operator"),
            ("openai-project", "proj_operator"), ("anthropic-organization-id", "org-anthropic"), ("Server", "upstream-server/1.0"),
            ("X-Internal-Trace", "node-7"), ("x-ratelimit-remaining-requests", "99"), ("x-ratelimit-reset-tokens", "6ms"),
            ("anthropic-ratelimit-requests-remaining", "49"), ("retry-after-ms", "20"), ("x-request-id", "req_1"), ("request-id", "req_a"),
            ("openai-processing-ms", "12"), ("openai-version", "2020-10-01"), ("x-should-retry", "false"), ("Cache-Control", "no-store"));
        await using GatewayHarness gateway = await GatewayHarness.StartAsync(upstreamOverride: new Uri(upstream.BaseAddress, "v1"));
        using HttpClient client = gateway.HttpClient();

        HttpResponseMessage response = await client.PostAsync("v1/chat/completions", Json(ChatBody), Token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        string Header(string name) => string.Join(", ", response.Headers.TryGetValues(name, out IEnumerable<string>? v) ? v : response.Content.Headers.TryGetValues(name, out v) ? v : []);
        foreach (string never in new[] { "Set-Cookie", "openai-organization", "openai-project", "anthropic-organization-id", "X-Internal-Trace" })
        {
            Assert.Equal("", Header(never));
        }

        Assert.Equal("", Header("Server")); // neither the upstream's nor the gateway's own
        Assert.Equal("99", Header("x-ratelimit-remaining-requests"));
        Assert.Equal("6ms", Header("x-ratelimit-reset-tokens"));
        Assert.Equal("49", Header("anthropic-ratelimit-requests-remaining"));
        Assert.Equal("20", Header("retry-after-ms"));
        Assert.Equal("req_1", Header("x-request-id"));
        Assert.Equal("req_a", Header("request-id"));
        Assert.Equal("12", Header("openai-processing-ms"));
        Assert.Equal("2020-10-01", Header("openai-version"));
        Assert.Equal("false", Header("x-should-retry"));
        Assert.Equal("no-store", Header("Cache-Control"));
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("gpt-4o-mini", Header("X-Tripswitch-Model"));
        Assert.Equal("fake/gpt-4o-mini", Header("X-Tripswitch-Circuit"));
    }

    [Fact]
    public async Task UpstreamRedirect_Gets502WithoutItsLocation_AndCountsAgainstTheCircuit()
    {
        await using ScriptedServer upstream = await ScriptedServer.StartAsync();
        upstream.Respond(302, ("Location", "http://127.0.0.1:1/elsewhere"), ("Set-Cookie", "a=b"));
        await using GatewayHarness gateway = await GatewayHarness.StartAsync(upstreamOverride: new Uri(upstream.BaseAddress, "v1"));
        using HttpClient client = gateway.HttpClient();

        HttpResponseMessage response = await client.PostAsync("v1/chat/completions", Json(ChatBody), Token);

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Null(response.Headers.Location);
        Assert.False(response.Headers.Contains("Set-Cookie"));
        string error = await response.Content.ReadAsStringAsync(Token);
        Assert.Contains("\"code\":\"upstream_redirect\"", error, StringComparison.Ordinal);
        Assert.DoesNotContain("127.0.0.1:1", error, StringComparison.Ordinal);
        Assert.Single(upstream.Received); // not followed
        Assert.Equal(1, gateway.Registry.Get("fake/gpt-4o-mini").GetSummary().Failed);
    }

    [Fact]
    public async Task UpstreamRedirect_WithAFallback_TheFallbackAnswers()
    {
        await using ScriptedServer upstream = await ScriptedServer.StartAsync();
        upstream.RespondWith(static context =>
        {
            // gpt-4.1 is misconfigured (redirects); its fallback gpt-4.1-mini answers.
            bool redirect = context.Request.Headers.ContentLength == """{"model":"gpt-4.1","messages":[]}""".Length;
            context.Response.StatusCode = redirect ? 301 : 200;
            context.Response.Headers.Location = redirect ? "http://127.0.0.1:1/" : default;
            return Task.CompletedTask;
        });
        await using GatewayHarness gateway = await GatewayHarness.StartAsync(upstreamOverride: new Uri(upstream.BaseAddress, "v1"));
        using HttpClient client = gateway.HttpClient();

        HttpResponseMessage response = await client.PostAsync("v1/chat/completions", Json("""{"model":"gpt-4.1","messages":[]}"""), Token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("fake/gpt-4.1-mini", response.Headers.GetValues("X-Tripswitch-Circuit").Single());
        Assert.Equal(1, gateway.Registry.Get("fake/gpt-4.1").GetSummary().Failed);
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");
}
