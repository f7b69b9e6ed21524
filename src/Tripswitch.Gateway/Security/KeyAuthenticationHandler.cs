using System.Globalization;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Tripswitch.Gateway.Security;

/// <summary>
/// Authenticates a request by the key it carries (<see cref="KeySet.KeyOf"/>): a configured key makes a principal
/// whose name is the key's id (<c>client-key-0</c>), never the key; no key is no result; any other key fails.
/// Whether an endpoint needs it is decided by the endpoint's authorization policy, not here.
/// </summary>
internal sealed class KeyAuthenticationHandler(IOptionsMonitor<KeyAuthenticationOptions> options, ILoggerFactory logger, UrlEncoder encoder)
    : AuthenticationHandler<KeyAuthenticationOptions>(options, logger, encoder)
{
    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        ReadOnlySpan<char> key = KeySet.KeyOf(Request);
        if (key.IsEmpty)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        if (!Options.Keys.TryMatch(key, out int index))
        {
            return Task.FromResult(AuthenticateResult.Fail("The key is not a configured key of this scheme."));
        }

        string id = Options.KeyIdPrefix + index.ToString(CultureInfo.InvariantCulture);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(GatewayAuth.PrincipalOf(id, Options.Role, Scheme.Name), Scheme.Name)));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties) => Options.Challenge(Context);
}
