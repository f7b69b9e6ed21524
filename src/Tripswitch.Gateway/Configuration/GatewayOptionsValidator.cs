using System.Globalization;
using Microsoft.Extensions.Options;

namespace Tripswitch.Gateway.Configuration;

/// <summary>
/// The one routine that decides whether <see cref="GatewayOptions"/> are valid. Every problem is listed, each naming
/// the option (as its configuration path), the value and what is allowed; start-up fails on any of them.
/// </summary>
/// <param name="environment">
/// Reads an environment variable: the same reader <see cref="Routing.RouteTable.Build"/> takes the provider keys from,
/// so a key variable that is missing fails start-up instead of sending requests without a key.
/// </param>
internal sealed class GatewayOptionsValidator(Func<string, string?> environment) : IValidateOptions<GatewayOptions>
{
    public ValidateOptionsResult Validate(string? name, GatewayOptions options)
    {
        List<string> errors = Check(options, environment);
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    public static List<string> Check(GatewayOptions options, Func<string, string?> environment)
    {
        var errors = new List<string>();
        CheckClients(options, errors);
        if (options.MaxRequestBodyBytes is < GatewayDefaults.MinRequestBodyBytes or > GatewayDefaults.MaxMaxRequestBodyBytes)
        {
            errors.Add(Invariant($"Gateway:MaxRequestBodyBytes must be between {GatewayDefaults.MinRequestBodyBytes} and {GatewayDefaults.MaxMaxRequestBodyBytes}; it was {options.MaxRequestBodyBytes}."));
        }

        foreach ((string provider, ProviderOptions p) in options.Providers)
        {
            CheckProvider(provider, p, environment, errors);
        }

        if (options.Models.Count == 0)
        {
            errors.Add("Gateway:Models is empty: configure at least one model, e.g. Gateway:Models:gpt-4.1:Provider = openai.");
        }

        foreach ((string model, ModelOptions m) in options.Models)
        {
            CheckModel(options, model, m, errors);
        }

        return errors;
    }

    private static void CheckClients(GatewayOptions options, List<string> errors)
    {
        if (options.AllowAnonymous && options.ClientKeys.Count > 0)
        {
            errors.Add("Gateway:AllowAnonymous is true and Gateway:ClientKeys is set: choose one (keys, or explicitly none).");
        }
        else if (!options.AllowAnonymous && options.ClientKeys.Count == 0)
        {
            errors.Add("Gateway:ClientKeys is empty: set at least one client key, or Gateway:AllowAnonymous = true to let anyone call.");
        }

        for (int i = 0; i < options.ClientKeys.Count; i++)
        {
            if (options.ClientKeys[i] is not { Length: >= 16 } key || key.Any(char.IsWhiteSpace))
            {
                errors.Add(Invariant($"Gateway:ClientKeys:{i} must be at least 16 characters with no white space (the value is not shown)."));
            }
        }

        if (options.AdminKey is { } admin && (admin.Length < 16 || admin.Any(char.IsWhiteSpace)))
        {
            errors.Add("Gateway:AdminKey must be at least 16 characters with no white space (the value is not shown).");
        }

        if (options.AdminSessionLifetime < GatewayDefaults.MinAdminSessionLifetime || options.AdminSessionLifetime > GatewayDefaults.MaxAdminSessionLifetime)
        {
            errors.Add(Invariant($"Gateway:AdminSessionLifetime must be between {GatewayDefaults.MinAdminSessionLifetime} and {GatewayDefaults.MaxAdminSessionLifetime}; it was {options.AdminSessionLifetime}."));
        }

        for (int i = 0; i < options.TrustedProxies.Count; i++)
        {
            if (!System.Net.IPAddress.TryParse(options.TrustedProxies[i], out _))
            {
                errors.Add(Invariant($"Gateway:TrustedProxies:{i} must be an IP address such as 10.0.0.5 or ::1; it was '{options.TrustedProxies[i]}'."));
            }
        }
    }

    private static void CheckProvider(string provider, ProviderOptions p, Func<string, string?> environment, List<string> errors)
    {
        string path = $"Gateway:Providers:{provider}";
        if (provider.Contains('/', StringComparison.Ordinal))
        {
            errors.Add($"{path}: a provider name cannot contain '/' (it separates provider and model in circuit names).");
        }

        if (!Uri.TryCreate(p.BaseUrl, UriKind.Absolute, out Uri? uri) || uri.Scheme is not ("http" or "https") || !string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.Fragment) || !string.IsNullOrEmpty(uri.UserInfo))
        {
            errors.Add($"{path}:BaseUrl must be an absolute http or https URL without query, fragment or credentials, like https://api.example.com/v1; it was '{p.BaseUrl}'.");
        }

        if (string.IsNullOrWhiteSpace(p.ApiKeyHeader) || p.ApiKeyHeader.Any(c => c <= ' ' || c >= 127 || c == ':'))
        {
            errors.Add($"{path}:ApiKeyHeader must be a header name such as Authorization or api-key; it was '{p.ApiKeyHeader}'.");
        }
        else if (!CanCarryKey(p.ApiKeyHeader))
        {
            errors.Add($"{path}:ApiKeyHeader cannot be '{p.ApiKeyHeader}': it is a header clients send or the protocol uses; use the provider's key header, such as Authorization or api-key.");
        }

        string? variable = p.ApiKeyEnvironmentVariable;
        if (variable is not null && string.IsNullOrWhiteSpace(variable))
        {
            errors.Add($"{path}:ApiKeyEnvironmentVariable must name an environment variable, or be left out.");
        }
        else if (variable is not null && string.IsNullOrEmpty(p.ApiKey) && string.IsNullOrEmpty(environment(variable)))
        {
            // Without this the provider would be called with no key at all (the value is never shown).
            errors.Add($"{path}:ApiKeyEnvironmentVariable names {variable}, which is not set or empty: set {variable} to provider '{provider}''s API key, or remove the option.");
        }

        if (p.Timeout < TimeSpan.FromMilliseconds(1) || p.Timeout > GatewayDefaults.MaxUpstreamTimeout)
        {
            errors.Add(Invariant($"{path}:Timeout must be between 00:00:00.001 and {GatewayDefaults.MaxUpstreamTimeout}; it was {p.Timeout}."));
        }

        if (p.ConnectTimeout < TimeSpan.FromMilliseconds(1) || p.ConnectTimeout > GatewayDefaults.MaxConnectTimeout)
        {
            errors.Add(Invariant($"{path}:ConnectTimeout must be between 00:00:00.001 and {GatewayDefaults.MaxConnectTimeout}; it was {p.ConnectTimeout}."));
        }

        if (p.HttpVersion is not (null or GatewayDefaults.HttpVersion11 or GatewayDefaults.HttpVersion2))
        {
            errors.Add($"{path}:HttpVersion must be {GatewayDefaults.HttpVersion11} or {GatewayDefaults.HttpVersion2}, or left out (negotiated); it was '{p.HttpVersion}'.");
        }
    }

    private static void CheckModel(GatewayOptions options, string model, ModelOptions m, List<string> errors)
    {
        string path = $"Gateway:Models:{model}";
        if (m.Provider is null || !options.Providers.ContainsKey(m.Provider))
        {
            errors.Add($"{path}:Provider must name a configured provider ({Known(options.Providers.Keys)}); it was '{m.Provider}'.");
        }

        for (int i = 0; i < m.Fallbacks.Count; i++)
        {
            string fallback = m.Fallbacks[i];
            int slash = fallback?.IndexOf('/', StringComparison.Ordinal) ?? -1;
            bool known = fallback is not null && (slash > 0
                ? options.Providers.ContainsKey(fallback[..slash]) && slash < fallback.Length - 1
                : options.Models.ContainsKey(fallback));
            if (!known)
            {
                errors.Add(Invariant($"{path}:Fallbacks:{i} must be a configured model ({Known(options.Models.Keys)}) or provider/model with a configured provider; it was '{fallback}'."));
            }
        }
    }

    private static readonly string[] s_protocolHeaders = ["Host", "Connection", "Transfer-Encoding", "Upgrade", "TE", "Keep-Alive", "Proxy-Connection"];

    /// <summary>Whether a key header would be its own: not one the gateway forwards from clients, nor a content or connection header.</summary>
    private static bool CanCarryKey(string header)
    {
        using var probe = new HttpRequestMessage();
        return !Forwarding.HeaderPolicy.ForwardsRequestHeader(header)
            && !s_protocolHeaders.Contains(header, StringComparer.OrdinalIgnoreCase)
            && probe.Headers.TryAddWithoutValidation(header, "key"); // false for a content header (Content-Type, Expires, …)
    }

    private static string Known(IEnumerable<string> names)
    {
        string list = string.Join(", ", names.Order(StringComparer.Ordinal));
        return list.Length == 0 ? "none configured" : list;
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
