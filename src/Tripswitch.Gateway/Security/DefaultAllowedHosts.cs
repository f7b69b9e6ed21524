using System.Net;
using Microsoft.AspNetCore.Http;

namespace Tripswitch.Gateway.Security;

/// <summary>
/// What <c>AllowedHosts</c> (ASP.NET Core's host filtering: any other <c>Host</c> gets 400) defaults to when it is not
/// configured: the names the gateway is bound to. That is what stops DNS rebinding, where a web page's own name is
/// pointed at the gateway's address and the browser then calls the gateway with that foreign name as <c>Host</c>.
/// </summary>
/// <remarks>
/// A loopback binding (<c>127.0.0.1</c>, <c>[::1]</c>, <c>localhost</c>) allows all three loopback names (and its own, such
/// as <c>127.0.0.2</c>); a specific host
/// or IP allows that name; a wildcard binding (<c>0.0.0.0</c>, <c>[::]</c>, <c>*</c>, <c>+</c>) cannot know its names, so it
/// keeps <c>*</c> and <see cref="IsWildcard"/> says to warn. Unix sockets and named pipes are not reachable from a
/// browser and add no name. Pure; never throws.
/// </remarks>
internal readonly record struct DefaultAllowedHosts(string Value, bool IsWildcard)
{
    /// <summary>The loopback names, in the form host filtering compares (<c>Host</c> without its port).</summary>
    public const string Loopback = "127.0.0.1;localhost;[::1]";

    /// <summary>The default for a gateway bound to <paramref name="urls"/> (<c>http://127.0.0.1:4000</c>, <c>http://*:80</c>, …).</summary>
    public static DefaultAllowedHosts For(IEnumerable<string> urls)
    {
        var names = new List<string>();
        foreach (string url in urls)
        {
            BindingAddress address;
            try
            {
                address = BindingAddress.Parse(url);
            }
            catch (FormatException)
            {
                return new("*", IsWildcard: true); // Kestrel refuses the URL at start anyway; assume nothing here
            }

            if (address.IsUnixPipe || address.IsNamedPipe)
            {
                continue;
            }

            string host = address.Host;
            string bare = host.StartsWith('[') && host.EndsWith(']') ? host[1..^1] : host;
            bool isIp = IPAddress.TryParse(bare, out IPAddress? ip);
            if (host is "*" or "+" || (isIp && (ip!.Equals(IPAddress.Any) || ip.Equals(IPAddress.IPv6Any))))
            {
                return new("*", IsWildcard: true);
            }

            string name = isIp && ip!.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{bare}]" : host;
            if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase) || (isIp && IPAddress.IsLoopback(ip!)))
            {
                names.AddRange(Loopback.Split(';')); // all three, whichever a local client uses
            }

            names.Add(name); // a duplicate of a loopback name is dropped below; 127.0.0.2 is kept
        }

        return names.Count > 0
            ? new(string.Join(';', names.Distinct(StringComparer.OrdinalIgnoreCase)), IsWildcard: false)
            : new("*", IsWildcard: false); // only sockets and pipes: no browser can reach them
    }
}
