using Tripswitch.Gateway.Configuration;

namespace Tripswitch.Gateway.Routing;

/// <summary>
/// What each client-facing model name resolves to: its own route first, then its fallbacks in order. Built once from
/// validated options; only the providers in it are ever contacted.
/// </summary>
internal sealed class RouteTable : IDisposable
{
    private readonly Dictionary<string, UpstreamRoute[]> _chains;

    private RouteTable(Dictionary<string, UpstreamRoute[]> chains, IReadOnlyList<(string Model, string Provider)> models)
    {
        _chains = chains;
        Models = models;
    }

    /// <summary>The configured models and their providers, sorted by name (what <c>GET /v1/models</c> lists).</summary>
    public IReadOnlyList<(string Model, string Provider)> Models { get; }

    /// <summary>Every route of every chain, once each.</summary>
    public IEnumerable<UpstreamRoute> Routes => _chains.Values.SelectMany(static c => c).DistinctBy(static r => r.CircuitName);

    /// <summary>The routes that may answer for <paramref name="model"/>, in order; <see langword="false"/> for a model that is not configured.</summary>
    public bool TryGetChain(string model, out UpstreamRoute[] chain) => _chains.TryGetValue(model, out chain!);

    public void Dispose()
    {
        foreach (Provider provider in Routes.Select(static r => r.Provider).Distinct())
        {
            provider.Dispose();
        }
    }

    /// <summary>Builds the table from options that passed <see cref="GatewayOptionsValidator"/>.</summary>
    /// <param name="options">The validated options.</param>
    /// <param name="environment">Reads an environment variable (the API keys named by <c>ApiKeyEnvironmentVariable</c>).</param>
    public static RouteTable Build(GatewayOptions options, Func<string, string?> environment)
    {
        var providers = new Dictionary<string, Provider>(StringComparer.Ordinal);
        foreach ((string name, ProviderOptions p) in options.Providers)
        {
            string? key = p.ApiKey;
            if (string.IsNullOrEmpty(key) && p.ApiKeyEnvironmentVariable is { } variable)
            {
                key = environment(variable);
            }

            providers[name] = new Provider(name, new Uri(p.BaseUrl!, UriKind.Absolute), key, p.ApiKeyHeader, p.Timeout, p.ConnectTimeout, p.HttpVersion);
        }

        // One route object per circuit, shared by every chain it appears in.
        var routes = new Dictionary<string, UpstreamRoute>(StringComparer.Ordinal);
        UpstreamRoute RouteOf(string provider, string model)
        {
            string circuit = provider + "/" + model;
            if (!routes.TryGetValue(circuit, out UpstreamRoute? route))
            {
                routes[circuit] = route = new UpstreamRoute(providers[provider], model);
            }

            return route;
        }

        var chains = new Dictionary<string, UpstreamRoute[]>(StringComparer.Ordinal);
        foreach ((string model, ModelOptions m) in options.Models)
        {
            var chain = new List<UpstreamRoute> { RouteOf(m.Provider!, model) };
            foreach (string fallback in m.Fallbacks)
            {
                int slash = fallback.IndexOf('/', StringComparison.Ordinal);
                UpstreamRoute next = slash > 0
                    ? RouteOf(fallback[..slash], fallback[(slash + 1)..])
                    : RouteOf(options.Models[fallback].Provider!, fallback);
                if (!chain.Contains(next))
                {
                    chain.Add(next);
                }
            }

            chains[model] = [.. chain];
        }

        var models = options.Models.Select(static m => (m.Key, m.Value.Provider!)).OrderBy(static m => m.Key, StringComparer.Ordinal).ToList();
        return new RouteTable(chains, models);
    }
}
