using System.Diagnostics.CodeAnalysis;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Tripswitch;
using Tripswitch.Dashboard;
using Tripswitch.Dashboard.Internal;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps the Tripswitch dashboard: a live page, a JSON status document and an event stream of the circuits of a registry.</summary>
/// <remarks>
/// <para>
/// Under <c>pattern</c> (for example <c>/tripswitch</c>) it maps, for GET only:
/// </para>
/// <list type="bullet">
/// <item><description><c>{pattern}</c> — one self-contained HTML page (no external assets) that shows the circuits live, filtered, sorted and paged on the server.</description></item>
/// <item><description><c>{pattern}/status</c> — JSON: <c>generatedAt</c> and every circuit with its summary (state, counts, success rate, <c>retryAfterSeconds</c>, recent transitions).</description></item>
/// <item><description><c>{pattern}/events?q=&amp;state=&amp;sort=&amp;page=&amp;pageSize=</c> — Server-Sent Events of one page of that view: a <c>snapshot</c> event (the page and the totals by state) at once, then a <c>diff</c> event of what changed every <see cref="TripswitchDashboardOptions.SnapshotInterval"/> and right after each <c>transition</c> event, which is sent for every state change as it happens. A bad query is a 400 naming the parameter.</description></item>
/// </list>
/// <para>
/// The endpoints are read-only and exist only where mapped. They are not protected by default: the returned
/// <see cref="RouteGroupBuilder"/> takes ASP.NET Core conventions such as <c>.RequireAuthorization("ops")</c>, which
/// apply to all three.
/// </para>
/// </remarks>
public static class TripswitchDashboardEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps the dashboard of the <see cref="CircuitBreakerRegistry"/> registered in the application's services under
    /// <paramref name="pattern"/>.
    /// </summary>
    /// <param name="endpoints">The application or route group.</param>
    /// <param name="pattern">The route prefix, for example <c>/tripswitch</c> (the default).</param>
    /// <returns>The group of the dashboard's endpoints, for conventions such as <c>.RequireAuthorization()</c>.</returns>
    /// <exception cref="InvalidOperationException">No <see cref="CircuitBreakerRegistry"/> is registered.</exception>
    public static RouteGroupBuilder MapTripswitchDashboard(
        this IEndpointRouteBuilder endpoints,
        [StringSyntax("Route")] string pattern = DashboardDefaults.Pattern)
        => MapTripswitchDashboard(endpoints, pattern, configure: null);

    /// <summary>Maps the dashboard of <paramref name="registry"/> under <paramref name="pattern"/>.</summary>
    /// <param name="endpoints">The application or route group.</param>
    /// <param name="pattern">The route prefix, for example <c>/tripswitch</c>.</param>
    /// <param name="registry">The registry whose circuits the dashboard shows.</param>
    /// <returns>The group of the dashboard's endpoints, for conventions such as <c>.RequireAuthorization()</c>.</returns>
    public static RouteGroupBuilder MapTripswitchDashboard(
        this IEndpointRouteBuilder endpoints,
        [StringSyntax("Route")] string pattern,
        CircuitBreakerRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        return MapTripswitchDashboard(endpoints, pattern, options => options.Registry = registry);
    }

    /// <summary>Maps the dashboard under <paramref name="pattern"/> with options.</summary>
    /// <param name="endpoints">The application or route group.</param>
    /// <param name="pattern">The route prefix, for example <c>/tripswitch</c>.</param>
    /// <param name="configure">Sets the options (registry, snapshot interval, per-client transition buffer, clock); <see langword="null"/> for the defaults.</param>
    /// <returns>The group of the dashboard's endpoints, for conventions such as <c>.RequireAuthorization()</c>.</returns>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range; the message names it and the valid range.</exception>
    /// <exception cref="InvalidOperationException">No registry was given and none is registered in the application's services.</exception>
    public static RouteGroupBuilder MapTripswitchDashboard(
        this IEndpointRouteBuilder endpoints,
        [StringSyntax("Route")] string pattern,
        Action<TripswitchDashboardOptions>? configure)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(pattern);

        var options = new TripswitchDashboardOptions();
        configure?.Invoke(options);
        options = options.Clone();
        options.Validate();

        IServiceProvider services = endpoints.ServiceProvider;
        CircuitBreakerRegistry registry = options.Registry
            ?? services.GetService<CircuitBreakerRegistry>()
            ?? throw new InvalidOperationException(
                $"MapTripswitchDashboard needs a {nameof(CircuitBreakerRegistry)} and the application's services have none: add the " +
                "Tripswitch.Hosting package and call builder.Services.AddTripswitch(...) (the registry your HTTP and chat clients use), " +
                "or pass a registry to MapTripswitchDashboard(pattern, registry).");
        TimeProvider timeProvider = options.TimeProvider ?? services.GetService<TimeProvider>() ?? TimeProvider.System;
        CancellationToken stopping = services.GetService<IHostApplicationLifetime>()?.ApplicationStopping ?? CancellationToken.None;

        var feed = new DashboardFeed(registry, timeProvider, options, stopping);
        RouteGroupBuilder group = endpoints.MapGroup(pattern);
        group.WithMetadata(feed);
        group.MapGet(string.Empty, new RequestDelegate(DashboardPage.WriteAsync)).WithDisplayName("Tripswitch dashboard page");
        group.MapGet("/status", new RequestDelegate(feed.WriteStatusAsync)).WithDisplayName("Tripswitch dashboard status");
        group.MapGet("/events", new RequestDelegate(feed.StreamAsync)).WithDisplayName("Tripswitch dashboard events");
        return group;
    }
}
