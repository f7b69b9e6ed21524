namespace Tripswitch.Dashboard;

/// <summary>The defaults and valid ranges of <see cref="TripswitchDashboardOptions"/>, in one place (pinned by a test).</summary>
internal static class DashboardDefaults
{
    public const string Pattern = "/tripswitch";

    public static readonly TimeSpan SnapshotInterval = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan MinSnapshotInterval = TimeSpan.FromMilliseconds(100);
    public static readonly TimeSpan MaxSnapshotInterval = TimeSpan.FromMinutes(5);

    public const int TransitionBufferCapacity = 256;
    public const int MinTransitionBufferCapacity = 1;
    public const int MaxTransitionBufferCapacity = 65_536;

    /// <summary>Rows per page of the event stream's view when the page doesn't ask (<c>pageSize</c>).</summary>
    public const int PageSize = 50;
    public const int MaxPageSize = 500;

    /// <summary>The longest name filter (<c>q</c>) the event stream accepts.</summary>
    public const int MaxFilterLength = 200;

    /// <summary>What the SSE stream tells a disconnected <c>EventSource</c> to wait before reconnecting.</summary>
    public static readonly TimeSpan ReconnectDelay = TimeSpan.FromSeconds(1);
}
