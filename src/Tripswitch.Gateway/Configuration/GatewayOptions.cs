namespace Tripswitch.Gateway.Configuration;

/// <summary>
/// The <c>Gateway</c> configuration section: who may call, which providers exist, which models they serve and what
/// falls back to what. The circuits themselves are configured in the <c>Tripswitch</c> section, by circuit name
/// (<c>provider/model</c>).
/// </summary>
internal sealed class GatewayOptions
{
    /// <summary>The configuration section's name.</summary>
    public const string SectionName = "Gateway";

    /// <summary>The keys clients send as <c>Authorization: Bearer …</c> (or <c>api-key</c>). Empty means no client may call, unless <see cref="AllowAnonymous"/>.</summary>
    public List<string> ClientKeys { get; set; } = [];

    /// <summary>Lets clients call without a key. Must be set explicitly; never combined with <see cref="ClientKeys"/>.</summary>
    public bool AllowAnonymous { get; set; }

    /// <summary>The key of the dashboard and status endpoints (<c>/tripswitch</c>). When unset they are not served (except offline).</summary>
    public string? AdminKey { get; set; }

    /// <summary>
    /// How long an admin session (the cookie a browser gets for <c>?key=</c>) lasts before the key must be given again.
    /// Default 8 hours; 1 minute to 30 days.
    /// </summary>
    public TimeSpan AdminSessionLifetime { get; set; } = GatewayDefaults.AdminSessionLifetime;

    /// <summary>
    /// The addresses of the TLS-terminating proxies in front of the gateway (for example <c>10.0.0.5</c>): only from
    /// these are <c>X-Forwarded-For</c> and <c>X-Forwarded-Proto</c> believed (so the admin cookie is <c>Secure</c>
    /// behind them). Empty (the default): those headers are ignored.
    /// </summary>
    public List<string> TrustedProxies { get; set; } = [];

    /// <summary>The largest request body accepted, in bytes; larger bodies get 413. Default 1 MiB; 1 KiB to 64 MiB.</summary>
    public int MaxRequestBodyBytes { get; set; } = GatewayDefaults.MaxRequestBodyBytes;

    /// <summary>
    /// Whether a failure that happened before any byte reached the client (an error status, a refused connection, a
    /// timeout before the headers) is answered by the next available fallback. Default <see langword="true"/>.
    /// </summary>
    public bool FallbackOnFailure { get; set; } = true;

    /// <summary>A StackExchange.Redis configuration string: when set, every circuit is shared with the gateways using the same Redis.</summary>
    public string? Redis { get; set; }

    /// <summary>The Redis key prefix of the shared circuits (gateways with the same prefix act as one). Default: Tripswitch.Redis's.</summary>
    public string? RedisKeyPrefix { get; set; }

    /// <summary>What one client connection may hold in Kestrel (connections, header and body timing, header size).</summary>
    public LimitsOptions Limits { get; set; } = new();

    /// <summary>
    /// The most requests one client key may have in progress at once (a stream counts until it ends); more get 429 with
    /// <c>Retry-After: 1</c>. Anonymous callers share one allowance. Unset (the default): no limit; 1 to 100,000.
    /// </summary>
    public int? MaxConcurrentRequestsPerClient { get; set; }

    /// <summary>
    /// The web origins (<c>scheme://host[:port]</c>, such as <c>https://app.example.com</c>) whose pages may call the
    /// client API from a browser; CORS preflights are answered for them. A request with any other <c>Origin</c> header
    /// gets 403. Empty (the default): no web page may call; clients that send no <c>Origin</c> are unaffected.
    /// </summary>
    public List<string> AllowedOrigins { get; set; } = [];

    /// <summary>The upstream providers, by name (the first half of a circuit name).</summary>
    public Dictionary<string, ProviderOptions> Providers { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The models clients may ask for, by the name clients use.</summary>
    public Dictionary<string, ModelOptions> Models { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>One upstream: where it is and how the gateway authenticates to it.</summary>
internal sealed class ProviderOptions
{
    /// <summary>The API root the endpoints are appended to, for example <c>https://api.example.com/v1</c>. http or https only.</summary>
    public string? BaseUrl { get; set; }

    /// <summary>The provider's API key. Prefer <see cref="ApiKeyEnvironmentVariable"/> or an environment variable override.</summary>
    public string? ApiKey { get; set; }

    /// <summary>The environment variable that holds the API key (read when the gateway starts), for example <c>OPENAI_API_KEY</c>.</summary>
    public string? ApiKeyEnvironmentVariable { get; set; }

    /// <summary>The header the key is sent in: <c>Authorization</c> (as <c>Bearer key</c>, the default), or another name such as <c>api-key</c> or <c>x-api-key</c> (the bare key).</summary>
    public string ApiKeyHeader { get; set; } = "Authorization";

    /// <summary>
    /// How long the upstream may stay silent (before its response headers, then between two reads of the body) before
    /// the attempt is cancelled and counts as a timeout failure. Default 100 s; 1 ms to 1 hour.
    /// </summary>
    public TimeSpan Timeout { get; set; } = GatewayDefaults.UpstreamTimeout;

    /// <summary>How long connecting to the provider may take. Default 10 s; 1 ms to 5 minutes.</summary>
    public TimeSpan ConnectTimeout { get; set; } = GatewayDefaults.ConnectTimeout;

    /// <summary>
    /// The HTTP version requests to the provider use: unset (the default) negotiates HTTP/2 over https and uses HTTP/1.1
    /// over http; <c>1.1</c> always uses HTTP/1.1; <c>2</c> uses HTTP/2 over http too. With HTTP/2 many
    /// requests share a few connections (streams are multiplexed), so the gateway does not hold one outbound socket per
    /// open request. Over https the version is negotiated (ALPN; a provider without HTTP/2 gets HTTP/1.1); an http base
    /// URL is spoken to as HTTP/2 without negotiation (prior knowledge, "h2c"), so the provider must serve h2c there.
    /// </summary>
    /// <value>Default unset (negotiated); <c>1.1</c> or <c>2</c>.</value>
    public string? HttpVersion { get; set; }
}

/// <summary>A model clients may ask for.</summary>
internal sealed class ModelOptions
{
    /// <summary>The provider that serves it (a key of <see cref="GatewayOptions.Providers"/>).</summary>
    public string? Provider { get; set; }

    /// <summary>
    /// What answers, in order, while this model's circuit is open: other configured model names
    /// (<c>gpt-4.1-mini</c>), or <c>provider/model</c> for a model at a named provider.
    /// </summary>
    public List<string> Fallbacks { get; set; } = [];
}
