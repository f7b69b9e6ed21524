using System.Globalization;

namespace Tripswitch.Dashboard;

/// <summary>Options of the endpoints that <c>MapTripswitchDashboard</c> maps.</summary>
/// <remarks>The options are validated and copied when the endpoints are mapped: later changes have no effect.</remarks>
public sealed class TripswitchDashboardOptions
{
    /// <summary>The registry whose circuits the dashboard shows.</summary>
    /// <value>Default <see langword="null"/>: the <see cref="CircuitBreakerRegistry"/> registered in the application's services.</value>
    public CircuitBreakerRegistry? Registry { get; set; }

    /// <summary>How often the event stream sends each client a diff of its page (what changed; empty when nothing did).</summary>
    /// <value>Default 1 second; from 100 milliseconds to 5 minutes.</value>
    public TimeSpan SnapshotInterval { get; set; } = DashboardDefaults.SnapshotInterval;

    /// <summary>
    /// How many transitions wait for each event-stream client at most. When a client reads too slowly, the oldest
    /// waiting transitions are dropped (the stream says how many) while diffs keep coming, so a slow client costs
    /// bounded memory.
    /// </summary>
    /// <value>Default 256; from 1 to 65,536.</value>
    public int TransitionBufferCapacity { get; set; } = DashboardDefaults.TransitionBufferCapacity;

    /// <summary>The clock of the event stream's intervals and of its <c>generatedAt</c> and <c>retryAt</c> times.</summary>
    /// <value>Default <see langword="null"/>: the <see cref="System.TimeProvider"/> registered in the application's services, else <see cref="TimeProvider.System"/>.</value>
    public TimeProvider? TimeProvider { get; set; }

    /// <summary>Checks every option, naming the option and its valid range when one is out of range.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    internal void Validate()
    {
        if (SnapshotInterval < DashboardDefaults.MinSnapshotInterval || SnapshotInterval > DashboardDefaults.MaxSnapshotInterval)
        {
            throw new ArgumentOutOfRangeException(
                nameof(SnapshotInterval),
                SnapshotInterval,
                string.Create(CultureInfo.InvariantCulture, $"{nameof(TripswitchDashboardOptions)}.{nameof(SnapshotInterval)} must be between {DashboardDefaults.MinSnapshotInterval} and {DashboardDefaults.MaxSnapshotInterval}; it was {SnapshotInterval}."));
        }

        if (TransitionBufferCapacity < DashboardDefaults.MinTransitionBufferCapacity || TransitionBufferCapacity > DashboardDefaults.MaxTransitionBufferCapacity)
        {
            throw new ArgumentOutOfRangeException(
                nameof(TransitionBufferCapacity),
                TransitionBufferCapacity,
                string.Create(CultureInfo.InvariantCulture, $"{nameof(TripswitchDashboardOptions)}.{nameof(TransitionBufferCapacity)} must be between {DashboardDefaults.MinTransitionBufferCapacity} and {DashboardDefaults.MaxTransitionBufferCapacity}; it was {TransitionBufferCapacity}."));
        }
    }

    internal TripswitchDashboardOptions Clone() => (TripswitchDashboardOptions)MemberwiseClone();
}
