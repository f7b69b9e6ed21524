using System.Net;
using Tripswitch.Gateway.Security;
using Tripswitch.Gateway.Tests.Infrastructure;
using Xunit;

namespace Tripswitch.Gateway.Tests.Security;

/// <summary>
/// The admin key given once as <c>?key=</c> becomes a signed, expiring session cookie (not the key) and a 303 to the
/// same address without it; the key never reaches a log at any level, the address bar or the cookie.
/// </summary>
public sealed class AdminSessionTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("tripswitch?key={0}", "/tripswitch")]
    [InlineData("tripswitch?state=open&key={0}&page=2", "/tripswitch?state=open&page=2")]
    [InlineData("tripswitch?KEY={0}", "/tripswitch")]
    [InlineData("tripswitch?k%65y={0}", "/tripswitch")]
    public async Task KeyInTheQuery_StartsASession_AndRedirectsToTheAddressWithoutIt(string target, string location)
    {
        await using GatewayHarness gateway = await GatewayHarness.StartAsync();
        using HttpClient browser = Browser(gateway);

        using HttpResponseMessage signIn = await browser.GetAsync(string.Format(System.Globalization.CultureInfo.InvariantCulture, target, GatewayHarness.AdminKey), Token);
        string cookie = Assert.Single(signIn.Headers.GetValues("Set-Cookie"));

        Assert.Equal(HttpStatusCode.SeeOther, signIn.StatusCode);
        Assert.Equal(location, signIn.Headers.Location?.OriginalString);
        Assert.StartsWith(GatewayAuth.SessionCookie + "=", cookie, StringComparison.Ordinal);
        Assert.DoesNotContain(GatewayHarness.AdminKey, cookie, StringComparison.Ordinal);
        Assert.Contains("path=/tripswitch", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("secure", cookie.Replace("samesite", "", StringComparison.OrdinalIgnoreCase), StringComparison.OrdinalIgnoreCase); // plain http
        DateTimeOffset expires = DateTimeOffset.Parse(cookie.Split(';').Single(p => p.Trim().StartsWith("expires=", StringComparison.OrdinalIgnoreCase)).Trim()[8..], System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(expires, gateway.Time.GetUtcNow().AddHours(8).AddMinutes(-1), gateway.Time.GetUtcNow().AddHours(8).AddMinutes(1));

        Assert.Equal(HttpStatusCode.OK, (await WithCookie(browser, "tripswitch/status", cookie)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await browser.GetAsync("tripswitch/status", Token)).StatusCode);
    }

    [Fact]
    public async Task Session_EndsWhenItsLifetimeIsOver()
    {
        await using GatewayHarness gateway = await GatewayHarness.StartAsync(c => c["Gateway:AdminSessionLifetime"] = "00:30:00");
        using HttpClient browser = Browser(gateway);
        string cookie = Assert.Single((await browser.GetAsync($"tripswitch?key={GatewayHarness.AdminKey}", Token)).Headers.GetValues("Set-Cookie"));

        gateway.Time.Advance(TimeSpan.FromMinutes(29));
        Assert.Equal(HttpStatusCode.OK, (await WithCookie(browser, "tripswitch/status", cookie)).StatusCode);
        gateway.Time.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(HttpStatusCode.Unauthorized, (await WithCookie(browser, "tripswitch/status", cookie)).StatusCode);
    }

    [Theory]
    [InlineData("tripswitch?key=not-the-admin-key-0123")]
    [InlineData("tripswitch?key=" + GatewayHarness.ClientKey)]
    [InlineData("tripswitch?key=" + GatewayHarness.AdminKey + "&key=" + GatewayHarness.AdminKey)]
    [InlineData("tripswitch?key=")]
    public async Task WrongOrRepeatedKey_Gets401_AndNoCookie(string target)
    {
        await using GatewayHarness gateway = await GatewayHarness.StartAsync();
        using HttpClient browser = Browser(gateway);

        using HttpResponseMessage response = await browser.GetAsync(target, Token);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.False(response.Headers.Contains("Set-Cookie"));
    }

    [Fact]
    public async Task TamperedCookie_Gets401()
    {
        await using GatewayHarness gateway = await GatewayHarness.StartAsync();
        using HttpClient browser = Browser(gateway);
        string cookie = Assert.Single((await browser.GetAsync($"tripswitch?key={GatewayHarness.AdminKey}", Token)).Headers.GetValues("Set-Cookie"));
        string value = cookie.Split(';')[0];
        string tampered = value[..^3] + (value[^3] == 'A' ? 'B' : 'A') + value[^2..];

        Assert.Equal(HttpStatusCode.OK, (await WithCookie(browser, "tripswitch/status", value)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await WithCookie(browser, "tripswitch/status", tampered)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await WithCookie(browser, "tripswitch/status", $"{GatewayAuth.SessionCookie}={GatewayHarness.AdminKey}")).StatusCode);
    }

    [Fact]
    public async Task Logout_ClearsTheCookie()
    {
        await using GatewayHarness gateway = await GatewayHarness.StartAsync();
        using HttpClient browser = Browser(gateway);
        string cookie = Assert.Single((await browser.GetAsync($"tripswitch?key={GatewayHarness.AdminKey}", Token)).Headers.GetValues("Set-Cookie"));

        using var logout = new HttpRequestMessage(HttpMethod.Post, "tripswitch/logout");
        logout.Headers.Add("Cookie", cookie.Split(';')[0]);
        using HttpResponseMessage response = await browser.SendAsync(logout, Token);
        string cleared = Assert.Single(response.Headers.GetValues("Set-Cookie"));

        Assert.Equal(HttpStatusCode.SeeOther, response.StatusCode);
        Assert.Equal("/tripswitch", response.Headers.Location?.OriginalString);
        Assert.StartsWith(GatewayAuth.SessionCookie + "=;", cleared, StringComparison.Ordinal);
        Assert.Contains("expires=Thu, 01 Jan 1970", cleared, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task BehindATrustedTlsProxy_TheCookieIsSecure_AndOnlyThen(bool trusted)
    {
        await using GatewayHarness gateway = await GatewayHarness.StartAsync(c =>
        {
            if (trusted)
            {
                c["Gateway:TrustedProxies:0"] = "127.0.0.1";
            }
        });
        using HttpClient browser = Browser(gateway);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"tripswitch?key={GatewayHarness.AdminKey}");
        request.Headers.Add("X-Forwarded-Proto", "https");
        request.Headers.Add("X-Forwarded-For", "203.0.113.7");

        string cookie = Assert.Single((await browser.SendAsync(request, Token)).Headers.GetValues("Set-Cookie"));

        Assert.Equal(trusted, cookie.Split(';').Any(p => p.Trim().Equals("secure", StringComparison.OrdinalIgnoreCase)));
    }

    [Fact]
    public async Task NoKeyOfAnyKind_ReachesALog_AtAnyLevel()
    {
        // The harness logs every category at Trace (hosting, routing, Kestrel, the HTTP client, authentication).
        await using GatewayHarness gateway = await GatewayHarness.StartAsync();
        using HttpClient browser = Browser(gateway);
        string cookie = Assert.Single((await browser.GetAsync($"tripswitch?key={GatewayHarness.AdminKey}", Token)).Headers.GetValues("Set-Cookie"));
        await WithCookie(browser, "tripswitch/status", cookie);
        // Each request did what it should, so the logs below saw a refused key, a sign-in and a signed-in read.
        using (HttpResponseMessage wrong = await browser.GetAsync("tripswitch?key=wrong-admin-key-0123456789", Token))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        }

        using (HttpResponseMessage signIn = await browser.GetAsync($"tripswitch/status?KEY={GatewayHarness.AdminKey}", Token))
        {
            Assert.Equal(HttpStatusCode.SeeOther, signIn.StatusCode);
        }

        using HttpClient client = gateway.HttpClient();
        (await client.PostAsync($"v1/chat/completions?key={GatewayHarness.ClientKey}", new StringContent("""{"model":"gpt-4.1","messages":[]}""", System.Text.Encoding.UTF8, "application/json"), Token)).Dispose();
        using HttpClient admin = gateway.HttpClient(GatewayHarness.AdminKey);
        using (HttpResponseMessage status = await admin.GetAsync("tripswitch/status", Token))
        {
            Assert.Equal(HttpStatusCode.OK, status.StatusCode);
        }

        Assert.Contains(gateway.Logs.Lines, l => l.Contains("Request starting", StringComparison.Ordinal)); // the hosting log is on
        Assert.Contains(gateway.Logs.Lines, l => l.Contains("/tripswitch/status", StringComparison.Ordinal));
        foreach (string secret in new[] { GatewayHarness.AdminKey, GatewayHarness.ClientKey, GatewayHarness.ProviderKey, "wrong-admin-key-0123456789", cookie.Split(';')[0].Split('=', 2)[1] })
        {
            Assert.DoesNotContain(secret, gateway.Logs.AllText, StringComparison.Ordinal);
        }

        Assert.DoesNotContain("key=", gateway.Logs.AllText, StringComparison.OrdinalIgnoreCase);
    }

    private static HttpClient Browser(GatewayHarness gateway)
        => new(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = gateway.Address };

    private static async Task<HttpResponseMessage> WithCookie(HttpClient browser, string path, string setCookie)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("Cookie", setCookie.Split(';')[0]);
        return await browser.SendAsync(request, Token);
    }
}
