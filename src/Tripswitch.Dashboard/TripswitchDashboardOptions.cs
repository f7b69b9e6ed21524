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

    /// <summary>Every problem with these options, as data (option, value, valid range, message); empty when they are valid.</summary>
    /// <returns>The errors.</returns>
    public IReadOnlyList<OptionError> GetValidationErrors()
    {
        const string Owner = nameof(TripswitchDashboardOptions);
        var errors = new List<OptionError>();
        OptionChecks.CheckRange(errors, Owner, nameof(SnapshotInterval), SnapshotInterval, DashboardDefaults.MinSnapshotInterval, DashboardDefaults.MaxSnapshotInterval);
        OptionChecks.CheckRange(errors, Owner, nameof(TransitionBufferCapacity), TransitionBufferCapacity, DashboardDefaults.MinTransitionBufferCapacity, DashboardDefaults.MaxTransitionBufferCapacity);
        return errors;
    }

    /// <summary>Throws the first of <see cref="GetValidationErrors"/>: an <see cref="ArgumentOutOfRangeException"/> naming the option and its valid range.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public void Validate() => OptionChecks.ThrowIfAny(GetValidationErrors());

    internal TripswitchDashboardOptions Clone() => (TripswitchDashboardOptions)MemberwiseClone();
}
