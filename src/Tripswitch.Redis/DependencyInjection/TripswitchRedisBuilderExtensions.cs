using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;
using Tripswitch;
using Tripswitch.Hosting;
using Tripswitch.Redis;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Shares the circuits of <c>AddTripswitch(...)</c>'s registry with a fleet through Redis.</summary>
public static class TripswitchRedisBuilderExtensions
{
    /// <summary>
    /// Shares every circuit of the registry with every other process configured with the same Redis and key prefix.
    /// The connection opens when the host starts (a Redis that is down then is not an error: circuits run on their
    /// local rules until it answers) and closes when it stops.
    /// </summary>
    /// <param name="builder">The Tripswitch builder.</param>
    /// <param name="configuration">A StackExchange.Redis configuration string (hosts, <c>password=</c>, <c>ssl=true</c>, …).</param>
    /// <param name="configure">Configures the sharing (key prefix, report and resync intervals, key expiry).</param>
    /// <returns>The builder, for chaining.</returns>
    public static ITripswitchBuilder UseRedis(this ITripswitchBuilder builder, string configuration, Action<RedisCircuitOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(configuration);
        return builder.UseRedis(ConfigurationOptions.Parse(configuration), configure);
    }

    /// <summary>Shares every circuit of the registry through Redis, with full StackExchange.Redis options.</summary>
    /// <param name="builder">The Tripswitch builder.</param>
    /// <param name="configuration">The StackExchange.Redis options.</param>
    /// <param name="configure">Configures the sharing.</param>
    /// <returns>The builder, for chaining.</returns>
    public static ITripswitchBuilder UseRedis(this ITripswitchBuilder builder, ConfigurationOptions configuration, Action<RedisCircuitOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configuration);
        var options = new RedisCircuitOptions();
        configure?.Invoke(options);
        options.Validate(); // a bad value fails where it is written, not at start-up
        builder.Services.AddHostedService(services => new RedisSharingService(
            services.GetRequiredService<CircuitBreakerRegistry>(),
            configuration,
            options,
            services.GetService<ILoggerFactory>()?.CreateLogger("Tripswitch.Redis")));
        return builder;
    }

    private sealed class RedisSharingService(CircuitBreakerRegistry registry, ConfigurationOptions configuration, RedisCircuitOptions options, ILogger? logger) : IHostedService, IAsyncDisposable
    {
        private RedisCircuitSharing? _sharing;

        public async Task StartAsync(CancellationToken cancellationToken)
            => _sharing = await RedisCircuitSharing.ConnectAsync(registry, configuration.Clone(), options, logger).ConfigureAwait(false);

        public async Task StopAsync(CancellationToken cancellationToken) => await DisposeAsync().ConfigureAwait(false);

        public async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _sharing, null) is { } sharing)
            {
                await sharing.DisposeAsync().ConfigureAwait(false);
            }
        }
    }
}
