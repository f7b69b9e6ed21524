using System.Net;
using System.Text;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.Extensions.DependencyInjection;
using Tripswitch.Gateway.Security;
using Tripswitch.Gateway.Tests.Infrastructure;
using Tripswitch.Testing;
using Xunit;

namespace Tripswitch.Gateway.Tests.Security;

/// <summary>
/// Access is a property of every endpoint the app maps: each one, found through <see cref="EndpointDataSource"/> (so an
/// endpoint added later is covered without touching this test), is called with case and percent-encoding variants of
/// its path and without a key, with a wrong key and with the other role's key: 401 (or 404), and nothing is forwarded.
/// Only health is anonymous.
/// </summary>
public sealed class EndpointAccessTests : IAsyncLifetime
{
    private const string ChatBody = """{"model":"gpt-4.1","messages":[{"role":"user","content":"Hi"}]}""";
    private ScriptedServer _upstream = null!;
    private GatewayHarness _gateway = null!;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _upstream = await ScriptedServer.StartAsync();
        _gateway = await GatewayHarness.StartAsync(upstreamOverride: new Uri(_upstream.BaseAddress, "v1"));
    }

    public async ValueTask DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    [Fact]
    public void OnlyHealthIsAnonymous_AndEveryOtherEndpointNamesAPolicy()
    {
        List<RouteEndpoint> endpoints = Endpoints();

        Assert.Equal(["/health/live", "/health/ready"], endpoints.Where(IsAnonymous).Select(e => e.RoutePattern.RawText).Order(StringComparer.Ordinal));
        Assert.All(endpoints.Where(e => !IsAnonymous(e)), e => Assert.Contains(PolicyOf(e), new[] { GatewayAuth.ClientPolicy, GatewayAuth.AdminPolicy }));
        Assert.Contains(endpoints, e => PolicyOf(e) == GatewayAuth.ClientPolicy && e.RoutePattern.RawText == "/v1/chat/completions");
        Assert.Contains(endpoints, e => PolicyOf(e) == GatewayAuth.AdminPolicy && e.RoutePattern.RawText == "/tripswitch/events");
    }

    [Fact]
    public async Task EveryEndpoint_InEveryCaseAndEncoding_WithoutTheRightKey_Gets401Or404_AndNothingIsForwarded()
    {
        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = _gateway.Address };
        int calls = 0;
        foreach (RouteEndpoint endpoint in Endpoints().Where(e => !IsAnonymous(e)))
        {
            string wrongRole = PolicyOf(endpoint) == GatewayAuth.ClientPolicy ? GatewayHarness.AdminKey : GatewayHarness.ClientKey;
            foreach (string method in MethodsOf(endpoint))
            {
                foreach (string path in Variants(PathOf(endpoint)))
                {
                    foreach (string? key in new[] { null, "wrong-key-0123456789abc", wrongRole, GatewayHarness.ProviderKey })
                    {
                        foreach (string header in new[] { "Authorization", "api-key", "x-api-key" })
                        {
                            using HttpResponseMessage response = await SendAsync(client, method, path, key, header);
                            calls++;
                            Assert.True(
                                response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.NotFound,
                                $"{method} {path} with {(key is null ? "no key" : "a wrong key in " + header)}: {(int)response.StatusCode}");
                        }
                    }
                }
            }
        }

        Assert.True(calls > 500, $"only {calls} calls were made"); // every endpoint × variants × keys really ran
        Assert.Empty(_upstream.Received);
    }

    [Fact]
    public async Task EveryEndpoint_InEveryCaseAndEncoding_WithTheRightKey_IsReached()
    {
        // The positive control of the test above: each variant routes to the endpoint (not a 404), so its 401s are the
        // endpoint's policy answering, not a path that matched nothing.
        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = _gateway.Address };
        foreach (RouteEndpoint endpoint in Endpoints().Where(e => !IsAnonymous(e)))
        {
            string key = PolicyOf(endpoint) == GatewayAuth.ClientPolicy ? GatewayHarness.ClientKey : GatewayHarness.AdminKey;
            foreach (string method in MethodsOf(endpoint))
            {
                foreach (string path in Variants(PathOf(endpoint)))
                {
                    using HttpResponseMessage response = await SendAsync(client, method, path, key, "Authorization");
                    Assert.True(
                        response.StatusCode is not (HttpStatusCode.Unauthorized or HttpStatusCode.NotFound or HttpStatusCode.Forbidden),
                        $"{method} {path} with the right key: {(int)response.StatusCode}");
                }
            }
        }
    }

    [Theory]
    [InlineData("GET", "/")]
    [InlineData("GET", "/v2/models")]
    [InlineData("POST", "/v1/chat/completions/extra")]
    [InlineData("GET", "/tripswitch/other")]
    [InlineData("DELETE", "/v1/models")]
    public async Task PathsNoEndpointServes_AreNeverAnswered(string method, string path)
    {
        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = _gateway.Address };
        using HttpResponseMessage response = await SendAsync(client, method, path, key: null, "Authorization");

        Assert.True(response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed, $"{(int)response.StatusCode}");
        Assert.Empty(_upstream.Received);
    }

    private List<RouteEndpoint> Endpoints()
        => [.. _gateway.App.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()];

    private static bool IsAnonymous(Endpoint endpoint) => endpoint.Metadata.GetMetadata<IAllowAnonymous>() is not null;

    private static string? PolicyOf(Endpoint endpoint) => endpoint.Metadata.GetOrderedMetadata<IAuthorizeData>().Select(d => d.Policy).LastOrDefault(p => p is not null);

    private static IReadOnlyList<string> MethodsOf(Endpoint endpoint) => endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? ["GET", "POST"];

    private static string PathOf(RouteEndpoint endpoint)
        => "/" + string.Join('/', endpoint.RoutePattern.PathSegments.Select(segment => string.Concat(segment.Parts.Select(part => part switch
        {
            RoutePatternLiteralPart literal => literal.Content,
            RoutePatternSeparatorPart separator => separator.Content,
            _ => "x",
        }))));

    /// <summary>The path as written, upper-cased, alternately cased, percent-encoded letter by letter, with a trailing slash.</summary>
    private static IEnumerable<string> Variants(string path)
    {
        yield return path;
        yield return path.ToUpperInvariant();
        yield return string.Concat(path.Select((c, i) => i % 2 == 0 ? char.ToUpperInvariant(c) : c));
        yield return string.Concat(path.Select(c => char.IsLetter(c) ? $"%{(int)c:X2}" : c.ToString()));
        yield return string.Concat(path.Select(c => char.IsLetter(c) ? $"%{(int)char.ToUpperInvariant(c):x2}" : c.ToString()));
        yield return path + "/";
    }

    private static Task<HttpResponseMessage> SendAsync(HttpClient client, string method, string path, string? key, string header)
    {
        // Sent byte for byte: System.Uri would otherwise decode %76 back to 'v' before it left.
        var uri = new Uri(client.BaseAddress!.GetLeftPart(UriPartial.Authority) + path, new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true });
        var request = new HttpRequestMessage(new HttpMethod(method), uri)
        {
            Content = method == "POST" ? new StringContent(ChatBody, Encoding.UTF8, "application/json") : null,
        };
        if (key is not null)
        {
            request.Headers.TryAddWithoutValidation(header, header == "Authorization" ? "Bearer " + key : key);
        }

        // Event streams answer with headers first and never end: read the headers only.
        return client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, Token);
    }
}
