using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Tripswitch.Dashboard.Internal;

/// <summary>
/// The dashboard's single page, embedded resources (page, CSS, script) served as one page with its CSS and script inline: no CDN, no other request than
/// the page's own status stream. Its Content-Security-Policy allows exactly that inline script and style (by hash)
/// and connections to the page's own origin, so the browser itself refuses any other asset.
/// </summary>
internal static class DashboardPage
{
    private const string ResourcePrefix = "Tripswitch.Dashboard.dashboard.";

    private static readonly Lazy<(byte[] Html, string Policy)> Content = new(Load);

    /// <summary>The page, UTF-8.</summary>
    internal static ReadOnlyMemory<byte> Html => Content.Value.Html;

    /// <summary>The Content-Security-Policy header sent with the page.</summary>
    internal static string ContentSecurityPolicy => Content.Value.Policy;

    /// <summary>GET {pattern}: the page.</summary>
    public static Task WriteAsync(HttpContext context)
    {
        (byte[] html, string policy) = Content.Value;
        HttpResponse response = context.Response;
        response.ContentType = "text/html; charset=utf-8";
        response.ContentLength = html.Length;
        response.Headers.CacheControl = "no-store";
        response.Headers.ContentSecurityPolicy = policy;
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers["Referrer-Policy"] = "no-referrer";
        return response.Body.WriteAsync(html, context.RequestAborted).AsTask();
    }

    private static (byte[] Html, string Policy) Load()
    {
        // The browser hashes the script as parsed, with line breaks normalised to LF: hash (and send) exactly that.
        string html = Read("html")
            .Replace("<style></style>", "<style>\n" + Read("css") + "</style>", StringComparison.Ordinal)
            .Replace("<script></script>", "<script>\n" + Read("js") + "</script>", StringComparison.Ordinal);
        string policy =
            "default-src 'none'; " +
            $"script-src '{HashOf(html, "script")}'; " +
            $"style-src '{HashOf(html, "style")}'; " +
            "connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
        return (new UTF8Encoding(encoderShouldEmitUTF8Identifier: false).GetBytes(html), policy);
    }

    /// <summary>One embedded part of the page (<c>html</c>, <c>css</c> or <c>js</c>), line breaks normalised to LF.</summary>
    private static string Read(string extension)
    {
        string name = ResourcePrefix + extension;
        using Stream stream = typeof(DashboardPage).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"The embedded resource '{name}' is missing from {typeof(DashboardPage).Assembly.GetName().Name}.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd().ReplaceLineEndings("\n");
    }

    /// <summary>The CSP source (<c>sha256-…</c>) of the page's one inline element <paramref name="tag"/>.</summary>
    private static string HashOf(string html, string tag)
    {
        string open = $"<{tag}>";
        string close = $"</{tag}>";
        int start = html.IndexOf(open, StringComparison.Ordinal);
        int end = html.IndexOf(close, StringComparison.Ordinal);
        if (start < 0 || end < start || html.IndexOf(open, end, StringComparison.Ordinal) >= 0)
        {
            throw new InvalidOperationException($"The dashboard page must have exactly one inline <{tag}> element.");
        }

        string body = html[(start + open.Length)..end];
        return "sha256-" + Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(body)));
    }
}
