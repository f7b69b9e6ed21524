using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Cors.Infrastructure;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using Tripswitch.FakeLlm;
using Tripswitch.Gateway.Configuration;
using Tripswitch.Gateway.Forwarding;
using Tripswitch.Gateway.Logging;
using Tripswitch.Gateway.Routing;
using Tripswitch.Gateway.Security;
using Tripswitch.Hosting;

namespace Tripswitch.Gateway;

/// <summary>
/// Builds the gateway: configuration (the <c>Gateway</c> and <c>Tripswitch</c> sections; with no <c>Gateway</c>
/// section, an embedded offline fake LLM), services, security middleware and endpoints.
/// </summary>
internal static class GatewayApp
{
    /// <summary>Where the dashboard and its status endpoints are served.</summary>
    public const string DashboardPath = "/tripswitch";

    /// <summary>Where the client API is served.</summary>
    public const string ApiPath = "/v1";

    /// <summary>The OpenAI endpoints the gateway forwards (under <see cref="ApiPath"/>), which are also their paths at the provider (relative to its base URL).</summary>
    public static readonly string[] Endpoints = ["chat/completions", "completions", "embeddings", "responses"];

    /// <summary>Builds the application (not started). <paramref name="configure"/> runs before the gateway reads its configuration (tests add theirs there).</summary>
    public static async Task<WebApplication> BuildAsync(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        // appsettings.json is read from beside the executable (a published single file too), not from the working directory.
        WebApplicationBuilder builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        configure?.Invoke(builder);
        bool offline = await AddOfflineUpstreamWhenUnconfiguredAsync(builder).ConfigureAwait(false);
        if (string.IsNullOrEmpty(builder.Configuration[WebHostDefaults.ServerUrlsKey]) && !builder.Configuration.GetSection("Kestrel:Endpoints").Exists())
        {
            builder.WebHost.UseUrls(GatewayDefaults.Url); // loopback unless told otherwise
        }

        DefaultAllowedHosts? allowedHosts = DefaultAllowedHostsWhenUnset(builder);
        AddServices(builder);
        WebApplication app = builder.Build();
        MapEndpoints(app, offline);
        CreateCircuits(app);
        WarnWhenAnyHostIsAllowed(app, allowedHosts);
        return app;
    }

    /// <summary>
    /// When <c>AllowedHosts</c> is not configured, sets it to the names the gateway is bound to (host filtering, which
    /// the web host installs first in the pipeline, then answers 400 to any other <c>Host</c>). A configured value wins.
    /// </summary>
    private static DefaultAllowedHosts? DefaultAllowedHostsWhenUnset(WebApplicationBuilder builder)
    {
        const string Key = "AllowedHosts";
        if (!string.IsNullOrEmpty(builder.Configuration[Key]))
        {
            return null;
        }

        IEnumerable<string> urls = builder.Configuration[WebHostDefaults.ServerUrlsKey] is { Length: > 0 } configured
            ? configured.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            : builder.Configuration.GetSection("Kestrel:Endpoints").GetChildren().Select(static e => e["Url"]).OfType<string>();
        DefaultAllowedHosts hosts = DefaultAllowedHosts.For(urls.DefaultIfEmpty(GatewayDefaults.Url));
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { [Key] = hosts.Value });
        return hosts;
    }

    private static void WarnWhenAnyHostIsAllowed(WebApplication app, DefaultAllowedHosts? hosts)
    {
        if (hosts is { IsWildcard: true })
        {
            ILogger logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(GatewayLog.Category);
            GatewayLog.AnyHostAllowed(logger, app.Configuration[WebHostDefaults.ServerUrlsKey] ?? "Kestrel:Endpoints");
        }
    }

    /// <summary>The address the gateway listens on (the first one), once started.</summary>
    public static Uri AddressOf(WebApplication app)
        => new(app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First());

    /// <summary>Prints where the gateway listens and a <c>curl</c> line that works at once.</summary>
    public static void PrintBanner(WebApplication app, TextWriter output)
    {
        Uri address = AddressOf(app);
        GatewayOptions options = app.Services.GetRequiredService<IOptions<GatewayOptions>>().Value;
        RouteTable routes = app.Services.GetRequiredService<RouteTable>();
        string model = routes.Models[0].Model;
        string auth = options.AllowAnonymous ? "" : " -H \"Authorization: Bearer $GATEWAY_KEY\"";
        output.WriteLine($"Tripswitch gateway: {address} ({routes.Models.Count} models: {string.Join(", ", routes.Models.Select(static m => m.Model))})");
        output.WriteLine("Try it:");
        output.WriteLine($"  curl -s {new Uri(address, "v1/chat/completions")}{auth} -H 'Content-Type: application/json' -d '{{\"model\":\"{model}\",\"messages\":[{{\"role\":\"user\",\"content\":\"Hello\"}}]}}'");
        output.WriteLine($"Point an OpenAI client at base URL {new Uri(address, "v1")}; circuits: {new Uri(address, DashboardPath.TrimStart('/'))}");
    }

    private static async Task<bool> AddOfflineUpstreamWhenUnconfiguredAsync(WebApplicationBuilder builder)
    {
        if (builder.Configuration.GetSection(GatewayOptions.SectionName).Exists())
        {
            return false;
        }

        FakeLlmServer fake = await FakeLlmServer.StartAsync().ConfigureAwait(false);
        builder.Services.AddSingleton(fake); // disposed (stopped) with the container
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Gateway:AllowAnonymous"] = "true",
            [$"Gateway:Providers:{GatewayDefaults.OfflineProvider}:BaseUrl"] = fake.ApiEndpoint.AbsoluteUri,
            ["Gateway:Models:gpt-4.1:Provider"] = GatewayDefaults.OfflineProvider,
            ["Gateway:Models:gpt-4.1:Fallbacks:0"] = "gpt-4.1-mini",
            ["Gateway:Models:gpt-4.1-mini:Provider"] = GatewayDefaults.OfflineProvider,
            ["Gateway:Models:gpt-4o-mini:Provider"] = GatewayDefaults.OfflineProvider,
        });
        return true;
    }

    private static void AddServices(WebApplicationBuilder builder)
    {
        IConfigurationSection section = builder.Configuration.GetSection(GatewayOptions.SectionName);
        IServiceCollection services = builder.Services;
        services.AddOptions<GatewayOptions>().Bind(section, static b => b.ErrorOnUnknownConfiguration = true).ValidateOnStart();
        services.AddSingleton<IValidateOptions<GatewayOptions>>(new GatewayOptionsValidator(Environment.GetEnvironmentVariable, builder.Configuration));
        services.AddSingleton(static sp => RouteTable.Build(sp.GetRequiredService<IOptions<GatewayOptions>>().Value, Environment.GetEnvironmentVariable));
        services.AddSingleton<GatewayForwarder>();
        services.AddHttpForwarder();
        KeyLiftingServer.Install(services);
        GatewayAuth.AddGatewayAuth(services, DashboardPath);
        AddBrowserAndLimitServices(services);

        ITripswitchBuilder tripswitch = services.AddTripswitch(builder.Configuration.GetSection("Tripswitch"));
        if (section["Redis"] is { Length: > 0 } redis)
        {
            string? prefix = section["RedisKeyPrefix"];
            tripswitch.UseRedis(redis, o =>
            {
                if (!string.IsNullOrEmpty(prefix))
                {
                    o.KeyPrefix = prefix;
                }
            });
        }

        services.AddHealthChecks().AddTripswitch(tags: ["ready"]);
        AddMetricsExport(builder);
    }

    /// <summary>Kestrel's limits, the CORS policy for <see cref="GatewayOptions.AllowedOrigins"/> and the per-client concurrency limit, all from the validated options.</summary>
    private static void AddBrowserAndLimitServices(IServiceCollection services)
    {
        services.AddSingleton<IConfigureOptions<KestrelServerOptions>, KestrelLimits>();
        services.AddSingleton<BrowserCorsPolicyProvider>();
        services.AddSingleton<ICorsPolicyProvider>(static sp => sp.GetRequiredService<BrowserCorsPolicyProvider>());
        services.AddCors(); // keeps the provider above (it only adds one when none is registered)
        ClientConcurrencyLimit.Add(services);
    }

    /// <summary>
    /// Exports metrics over OTLP when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set (the exporter reads the standard
    /// <c>OTEL_*</c> variables): the circuits' <c>Tripswitch</c> meter, ASP.NET Core's and Kestrel's, and the
    /// outgoing HTTP client's. Without it nothing is exported, and the meters remain for any other listener
    /// (<c>dotnet-counters monitor --counters Tripswitch</c>).
    /// </summary>
    private static void AddMetricsExport(WebApplicationBuilder builder)
    {
        if (string.IsNullOrEmpty(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            return;
        }

        builder.Services.AddOpenTelemetry()
            .ConfigureResource(static resource => resource.AddService("tripswitch-gateway"))
            .WithMetrics(static metrics => metrics
                .AddMeter(MeterNames)
                .AddOtlpExporter());
    }

    /// <summary>The meters exported: Tripswitch's circuits (the core's <c>Tripswitch</c> meter) and the server and client HTTP stacks.</summary>
    public static readonly string[] MeterNames = ["Tripswitch", "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "System.Net.Http"];

    /// <summary>
    /// Creates every route's circuit at start: the dashboard and health check show them all from the first moment, and
    /// with Redis each one follows the fleet's state before its first call here.
    /// </summary>
    private static void CreateCircuits(WebApplication app)
    {
        CircuitBreakerRegistry registry = app.Services.GetRequiredService<CircuitBreakerRegistry>();
        foreach (UpstreamRoute route in app.Services.GetRequiredService<RouteTable>().Routes)
        {
            registry.Get(route.CircuitName);
        }
    }

    private static void MapEndpoints(WebApplication app, bool offline)
    {
        GatewayOptions options = app.Services.GetRequiredService<IOptions<GatewayOptions>>().Value;
        ILogger logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(GatewayLog.Category);
        if (offline)
        {
            GatewayLog.Offline(logger, app.Services.GetRequiredService<FakeLlmServer>().ApiEndpoint);
        }

        UseSecurity(app, options, logger);

        // Access is decided per endpoint (GatewayAuth): the client API needs a client key (unless anonymous access was
        // configured), the dashboard the admin key or session, health nothing; anything else falls to the admin policy.
        GatewayForwarder forwarder = app.Services.GetRequiredService<GatewayForwarder>();
        RouteTable routes = app.Services.GetRequiredService<RouteTable>();
        RouteGroupBuilder api = app.MapGroup(ApiPath);
        foreach (string endpoint in Endpoints)
        {
            api.MapPost(endpoint, context => forwarder.ForwardAsync(context, endpoint));
        }

        api.MapGet("models", context => ModelList.WriteAsync(context, routes));
        _ = options.AllowAnonymous ? api.AllowAnonymous() : api.RequireAuthorization(GatewayAuth.ClientPolicy);
        GuardBrowsersAndLimit(app, api, options, logger);

        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = static _ => false }).AllowAnonymous();
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = static check => check.Tags.Contains("ready") }).AllowAnonymous();
        if (options.AdminKey is not null || offline)
        {
            RouteGroupBuilder dashboard = app.MapTripswitchDashboard(DashboardPath);
            dashboard.MapPost("/logout", static async context =>
            {
                await context.SignOutAsync(GatewayAuth.AdminSessionScheme).ConfigureAwait(false);
                context.Response.StatusCode = StatusCodes.Status303SeeOther;
                context.Response.Headers.Location = context.Request.PathBase.Add(DashboardPath).ToUriComponent();
            });
            // Offline with no admin key: the dashboard of the embedded fake, on loopback, is open.
            _ = options.AdminKey is null ? dashboard.AllowAnonymous() : dashboard.RequireAuthorization(GatewayAuth.AdminPolicy);
        }
    }

    /// <summary>
    /// The client API's guards for browsers and its per-client limit: a request with a web origin not allowed gets 403;
    /// with <see cref="GatewayOptions.AllowedOrigins"/>, CORS answers those origins' preflights; with
    /// <see cref="GatewayOptions.MaxConcurrentRequestsPerClient"/>, the concurrency limit applies.
    /// </summary>
    private static void GuardBrowsersAndLimit(WebApplication app, RouteGroupBuilder api, GatewayOptions options, ILogger logger)
    {
        api.AddEndpointFilter(new OriginFilter(app.Services.GetRequiredService<BrowserCorsPolicyProvider>(), logger));
        if (options.AllowedOrigins.Count > 0)
        {
            api.RequireCors(BrowserCorsPolicyProvider.PolicyName);
        }

        if (options.MaxConcurrentRequestsPerClient is not null)
        {
            api.RequireRateLimiting(ClientConcurrencyLimit.PolicyName);
        }
    }

    /// <summary>
    /// The middleware in front of every endpoint: forwarded headers from trusted proxies only, the admin sign-in by
    /// <c>?key=</c>, then routing, CORS (its preflights carry no key, so it answers them before authentication),
    /// authentication, authorization and the per-client concurrency limit (which needs the authenticated key id).
    /// </summary>
    private static void UseSecurity(WebApplication app, GatewayOptions options, ILogger logger)
    {
        if (options.TrustedProxies.Count > 0)
        {
            var forwarded = new ForwardedHeadersOptions { ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto };
            forwarded.KnownProxies.Clear(); // not even loopback by default: only the proxies configured
            forwarded.KnownIPNetworks.Clear();
            foreach (string proxy in options.TrustedProxies)
            {
                forwarded.KnownProxies.Add(System.Net.IPAddress.Parse(proxy));
            }

            app.UseForwardedHeaders(forwarded);
        }

        TimeProvider time = app.Services.GetRequiredService<IOptions<TripswitchOptions>>().Value.Defaults.TimeProvider;
        app.UseMiddleware<AdminSignInMiddleware>(GatewayAuth.AdminKeys(options), options.AdminSessionLifetime, time, logger);
        app.UseRouting();
        app.UseCors(); // only endpoints that require a CORS policy (the client API, with AllowedOrigins) are affected
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseRateLimiter(); // only endpoints that require a rate-limiting policy
    }
}
