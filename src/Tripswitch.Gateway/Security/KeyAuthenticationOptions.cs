using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;

namespace Tripswitch.Gateway.Security;

/// <summary>The options of one key scheme (<see cref="GatewayAuth.ClientKeyScheme"/> or <see cref="GatewayAuth.AdminKeyScheme"/>).</summary>
internal sealed class KeyAuthenticationOptions : AuthenticationSchemeOptions
{
    /// <summary>The keys this scheme accepts.</summary>
    public KeySet Keys { get; set; } = new([]);

    /// <summary>The role an authenticated caller gets (<see cref="GatewayAuth.ClientRole"/> or <see cref="GatewayAuth.AdminRole"/>).</summary>
    public string Role { get; set; } = "";

    /// <summary>What the key id starts with (<c>client-key-</c>): the id is this plus the key's position in the configuration.</summary>
    public string KeyIdPrefix { get; set; } = "";

    /// <summary>Writes the 401 answer for a request this scheme challenges.</summary>
    public Func<HttpContext, Task> Challenge { get; set; } = static _ => Task.CompletedTask;
}
