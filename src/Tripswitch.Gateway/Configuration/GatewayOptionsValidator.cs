using System.Globalization;
using Microsoft.Extensions.Configuration;
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
/// <param name="configuration">The whole configuration, for the <c>Kestrel:Limits</c> the gateway's own limits must not contradict.</param>
internal sealed class GatewayOptionsValidator(Func<string, string?> environment, IConfiguration configuration) : IValidateOptions<GatewayOptions>
{
    public ValidateOptionsResult Validate(string? name, GatewayOptions options)
    {
        List<string> errors = Check(options, environment);
        CheckKestrelLimits(configuration, errors);
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    public static List<string> Check(GatewayOptions options, Func<string, string?> environment)
    {
        var errors = new List<string>();
        CheckClients(options, errors);
        CheckLimits(options, errors);
        CheckOrigins(options, errors);
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

    // Limits and browsers (Gateway:Limits, Gateway:MaxConcurrentRequestsPerClient, Gateway:AllowedOrigins).

    private static void CheckLimits(GatewayOptions options, List<string> errors)
    {
        LimitsOptions limits = options.Limits;
        CheckRange("Gateway:Limits:MaxConnections", limits.MaxConnections, 1, GatewayDefaults.MaxMaxConnections, errors);
        CheckRange("Gateway:Limits:RequestHeadersTimeout", limits.RequestHeadersTimeout, GatewayDefaults.MinRequestHeadersTimeout, GatewayDefaults.MaxRequestHeadersTimeout, errors);
        CheckRange("Gateway:Limits:KeepAliveTimeout", limits.KeepAliveTimeout, GatewayDefaults.MinKeepAliveTimeout, GatewayDefaults.MaxKeepAliveTimeout, errors);
        CheckRange("Gateway:Limits:MinRequestBodyDataRate", limits.MinRequestBodyDataRate, 0, GatewayDefaults.MaxMinRequestBodyDataRate, errors);
        CheckRange("Gateway:Limits:MinRequestBodyDataRateGracePeriod", limits.MinRequestBodyDataRateGracePeriod, GatewayDefaults.MinMinRequestBodyDataRateGracePeriod, GatewayDefaults.MaxMinRequestBodyDataRateGracePeriod, errors);
        CheckRange("Gateway:Limits:MaxRequestHeadersTotalSize", limits.MaxRequestHeadersTotalSize, GatewayDefaults.MinMaxRequestHeadersTotalSize, GatewayDefaults.MaxMaxRequestHeadersTotalSize, errors);
        if (options.MaxConcurrentRequestsPerClient is { } perClient)
        {
            CheckRange("Gateway:MaxConcurrentRequestsPerClient", perClient, GatewayDefaults.MinConcurrentRequestsPerClient, GatewayDefaults.MaxConcurrentRequestsPerClient, errors);
        }
    }

    private static void CheckOrigins(GatewayOptions options, List<string> errors)
    {
        for (int i = 0; i < options.AllowedOrigins.Count; i++)
        {
            string? origin = options.AllowedOrigins[i];
            // Exactly what a browser sends in Origin: scheme://host[:port], no path or trailing slash, no default port.
            bool valid = Uri.TryCreate(origin, UriKind.Absolute, out Uri? uri)
                && uri.Scheme is ("http" or "https")
                && string.IsNullOrEmpty(uri.UserInfo)
                && string.Equals(uri.GetLeftPart(UriPartial.Authority), origin, StringComparison.OrdinalIgnoreCase);
            if (!valid)
            {
                errors.Add(Invariant($"Gateway:AllowedOrigins:{i} must be a web origin as browsers send it, scheme://host[:port] with no path, no trailing slash and no default port, such as https://app.example.com; it was '{origin}'."));
            }
        }
    }

    /// <summary>
    /// The Kestrel limits the gateway sets from <c>Gateway:Limits</c>, by their name under <c>Kestrel:Limits</c>. Setting
    /// one there too is refused rather than silently overridden (or silently ignored): one place decides each limit.
    /// </summary>
    private static readonly (string Kestrel, string Gateway)[] ManagedKestrelLimits =
    [
        ("MaxConcurrentConnections", "MaxConnections"),
        ("RequestHeadersTimeout", "RequestHeadersTimeout"),
        ("KeepAliveTimeout", "KeepAliveTimeout"),
        ("MinRequestBodyDataRate", "MinRequestBodyDataRate and Gateway:Limits:MinRequestBodyDataRateGracePeriod"),
        ("MaxRequestHeadersTotalSize", "MaxRequestHeadersTotalSize"),
    ];

    private static void CheckKestrelLimits(IConfiguration configuration, List<string> errors)
    {
        foreach ((string kestrel, string gateway) in ManagedKestrelLimits)
        {
            if (configuration.GetSection($"Kestrel:Limits:{kestrel}").Exists())
            {
                errors.Add($"Kestrel:Limits:{kestrel} is set, but the gateway sets this limit itself: set Gateway:Limits:{gateway} instead, and remove Kestrel:Limits:{kestrel}.");
            }
        }
    }

    private static void CheckRange(string path, int value, int min, int max, List<string> errors)
    {
        if (value < min || value > max)
        {
            errors.Add(Invariant($"{path} must be between {min} and {max}; it was {value}."));
        }
    }

    private static void CheckRange(string path, TimeSpan value, TimeSpan min, TimeSpan max, List<string> errors)
    {
        if (value < min || value > max)
        {
            errors.Add(Invariant($"{path} must be between {min} and {max}; it was {value}."));
        }
    }

    private static string Known(IEnumerable<string> names)
    {
        string list = string.Join(", ", names.Order(StringComparer.Ordinal));
        return list.Length == 0 ? "none configured" : list;
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
