namespace Tripswitch.Dashboard.Internal;

/// <summary>How many circuits the registry holds, by state, and how many of them the view's filter matches.</summary>
/// <param name="Circuits">Every circuit of the registry.</param>
/// <param name="Closed">Closed circuits.</param>
/// <param name="HalfOpen">Half-open circuits.</param>
/// <param name="Open">Open circuits.</param>
/// <param name="Isolated">Isolated circuits.</param>
/// <param name="Matching">Circuits the view's filter (name and state) matches: what its pages page through.</param>
internal sealed record ViewTotals(int Circuits, int Closed, int HalfOpen, int Open, int Isolated, int Matching);

/// <summary>One row of the stream's view: a circuit's summary, as JSON.</summary>
/// <param name="Name">The circuit's key in the registry.</param>
/// <param name="State">The circuit's state.</param>
/// <param name="ConsecutiveFailures">Handled failures since the last success or reset.</param>
/// <param name="TotalCalls">Every completed call.</param>
/// <param name="Successful">Calls that succeeded.</param>
/// <param name="Failed">Calls that failed in a way that counts.</param>
/// <param name="Ignored">Calls that ended in an outcome that counts as neither.</param>
/// <param name="Rejected">Calls rejected without running.</param>
/// <param name="SlowCalls">Calls slower than the slow-call threshold.</param>
/// <param name="ShadowRejected">Calls that would have been rejected in metrics-only mode.</param>
/// <param name="SuccessRate">Successful / (Successful + Failed), 0 to 1; 1 when nothing ran.</param>
/// <param name="RetryAt">
/// When an open circuit lets a probe through, by the dashboard's clock; omitted unless open. A time, not a countdown,
/// so an idle open circuit's row doesn't change (and isn't re-sent) every interval: the page counts down itself.
/// </param>
/// <param name="StateChanges">Every state change since the circuit was created.</param>
/// <param name="LastTransition">The most recent state change, if any.</param>
internal sealed record CircuitRow(
    string Name,
    CircuitState State,
    int ConsecutiveFailures,
    long TotalCalls,
    long Successful,
    long Failed,
    long Ignored,
    long Rejected,
    long SlowCalls,
    long ShadowRejected,
    double SuccessRate,
    DateTimeOffset? RetryAt,
    long StateChanges,
    TransitionStatus? LastTransition)
{
    /// <summary>The most <see cref="RetryAt"/> may move while the row still counts as unchanged.</summary>
    /// <remarks>
    /// It is the dashboard's "now" plus the circuit's remaining open period, two clock reads apart: with a real clock
    /// it wobbles by microseconds from one interval to the next, which must not re-send the row.
    /// </remarks>
    private static readonly TimeSpan RetryAtTolerance = TimeSpan.FromMilliseconds(500);

    /// <summary>Whether the page would show this row as it shows <paramref name="other"/> (so it needn't be re-sent).</summary>
    public bool SameAs(CircuitRow other)
    {
        if (RetryAt is { } at && other.RetryAt is { } otherAt)
        {
            return (at - otherAt).Duration() < RetryAtTolerance && this with { RetryAt = otherAt } == other;
        }

        return this == other;
    }
}

/// <summary>What the view shows and where it is: echoed in every snapshot so the page shows what the server used.</summary>
/// <param name="Filter">The name filter, if any.</param>
/// <param name="State">The state filter, if any.</param>
/// <param name="Sort">The order: <c>state</c>, <c>name</c> or <c>failed</c>.</param>
/// <param name="Page">The page shown, from 1 (the last page when the one asked for is past it).</param>
/// <param name="Pages">How many pages the matching circuits fill (at least 1).</param>
/// <param name="PageSize">Rows per page.</param>
internal sealed record ViewPosition(string? Filter, CircuitState? State, string Sort, int Page, int Pages, int PageSize);

/// <summary>
/// The stream's <c>snapshot</c> event: the whole of one page of the view, sent first on every connection. What
/// follows are <c>diff</c> events against it.
/// </summary>
/// <param name="Seq">1 on every connection; each later <c>snapshot</c> or <c>diff</c> adds one (the SSE event id).</param>
/// <param name="GeneratedAt">When it was taken, by the dashboard's clock.</param>
/// <param name="View">The view and the page shown.</param>
/// <param name="Totals">Circuits by state, and how many match.</param>
/// <param name="Circuits">The page's rows, in the view's order.</param>
internal sealed record ViewSnapshot(
    long Seq,
    DateTimeOffset GeneratedAt,
    ViewPosition View,
    ViewTotals Totals,
    IReadOnlyList<CircuitRow> Circuits);

/// <summary>
/// The stream's <c>diff</c> event: what changed on the page since the previous event, keyed by circuit name. Sent
/// every snapshot interval (an empty one says the stream is alive) and at once after a transition.
/// </summary>
/// <param name="Seq">The previous event's plus one; a client that sees a gap has missed one and must resync (reconnect).</param>
/// <param name="GeneratedAt">When it was taken, by the dashboard's clock.</param>
/// <param name="View">The page and page count, when either changed (the matching set grew or shrank); otherwise omitted.</param>
/// <param name="Totals">The totals, when they changed; otherwise omitted.</param>
/// <param name="Changed">Rows that are new on the page or differ from what was sent; omitted when none.</param>
/// <param name="Removed">Names of circuits that left the page (or the registry); omitted when none.</param>
/// <param name="Order">Every name on the page in order, when the order changed; otherwise omitted (it is the previous order).</param>
/// <param name="DroppedTransitions">How many transitions this client missed because it read too slowly; omitted when none.</param>
internal sealed record ViewDiff(
    long Seq,
    DateTimeOffset GeneratedAt,
    ViewPosition? View,
    ViewTotals? Totals,
    IReadOnlyList<CircuitRow>? Changed,
    IReadOnlyList<string>? Removed,
    IReadOnlyList<string>? Order,
    long? DroppedTransitions)
;
