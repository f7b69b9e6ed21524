using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Tripswitch.Dashboard.Tests.Infrastructure;

namespace Tripswitch.Dashboard.Tests;

public partial class PageTests
{
    [Fact]
    public async Task Page_IsOneSelfContainedHtmlDocument()
    {
        await using DashboardServer server = await DashboardServer.StartAsync(configure: b => b.Services.AddSingleton(new CircuitBreakerRegistry()));

        using HttpResponseMessage response = await server.Client.GetAsync("tripswitch", TestContext.Current.CancellationToken);
        string html = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html; charset=utf-8", response.Content.Headers.ContentType?.ToString());
        Assert.True(response.Headers.CacheControl?.NoStore);
        Assert.StartsWith("<!doctype html>", html, StringComparison.Ordinal);
        // No asset from anywhere: every src/href is a data: URL, nothing is imported, no absolute URL but the SVG namespace.
        Assert.All(SourceAttribute().Matches(html), m => Assert.StartsWith("data:", m.Groups["url"].Value, StringComparison.Ordinal));
        Assert.DoesNotContain("@import", html, StringComparison.Ordinal);
        Assert.DoesNotContain("url(", html, StringComparison.Ordinal);
        Assert.Equal(["http://www.w3.org/2000/svg"], AbsoluteUrl().Matches(html).Select(m => m.Value).Distinct());
        Assert.Single(ScriptTag().Matches(html));
        Assert.Single(StyleTag().Matches(html));
    }

    [Fact]
    public async Task Page_ContentSecurityPolicy_AllowsOnlyItsOwnInlineScriptStyleAndOrigin()
    {
        await using DashboardServer server = await DashboardServer.StartAsync(configure: b => b.Services.AddSingleton(new CircuitBreakerRegistry()));

        using HttpResponseMessage response = await server.Client.GetAsync("tripswitch/", TestContext.Current.CancellationToken);
        string html = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        string policy = Assert.Single(response.Headers.GetValues("Content-Security-Policy"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("default-src 'none'", policy, StringComparison.Ordinal);
        Assert.Contains("connect-src 'self'", policy, StringComparison.Ordinal);
        Assert.Contains($"script-src '{Hash(html, "script")}'", policy, StringComparison.Ordinal);
        Assert.Contains($"style-src '{Hash(html, "style")}'", policy, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe", policy, StringComparison.Ordinal);
        Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
    }

    private static string Hash(string html, string tag)
    {
        int start = html.IndexOf($"<{tag}>", StringComparison.Ordinal) + tag.Length + 2;
        int end = html.IndexOf($"</{tag}>", StringComparison.Ordinal);
        return "sha256-" + Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(html[start..end])));
    }

    [GeneratedRegex("""\b(?:src|href)\s*=\s*["']?(?<url>[^"'\s>]*)""", RegexOptions.IgnoreCase)]
    private static partial Regex SourceAttribute();

    [GeneratedRegex("""(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}[^\s"'`)]*""", RegexOptions.IgnoreCase)]
    private static partial Regex AbsoluteUrl();

    [GeneratedRegex("<script[ >]", RegexOptions.IgnoreCase)]
    private static partial Regex ScriptTag();

    [GeneratedRegex("<style[ >]", RegexOptions.IgnoreCase)]
    private static partial Regex StyleTag();
}
