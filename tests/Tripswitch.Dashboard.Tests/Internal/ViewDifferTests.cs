using Tripswitch.Dashboard.Internal;
using Tripswitch.Dashboard.Tests.Infrastructure;

namespace Tripswitch.Dashboard.Tests.Internal;

/// <summary>What a client is sent after its snapshot: only what changed on its page, keyed by name, numbered without gaps.</summary>
public class ViewDifferTests
{
    private static readonly ViewPosition Position = new(null, null, "state", 1, 1, 50);

    [Fact]
    public void Diff_NothingChanged_IsEmptyButNumbered()
    {
        var differ = new ViewDiffer();
        ViewPage page = Page(Totals(2), Row("a"), Row("b"));

        ViewSnapshot snapshot = differ.Snapshot(page);
        ViewDiff diff = differ.Diff(page with { GeneratedAt = TestBreakers.Start.AddSeconds(1) }, droppedTransitions: 0);

        Assert.Equal(1, snapshot.Seq);
        Assert.Equal(new ViewDiff(2, TestBreakers.Start.AddSeconds(1), null, null, null, null, null, null), diff);
    }

    [Fact]
    public void Diff_RowChangedAndRowGone_SendsTheRowAndTheNameWithoutAnOrder()
    {
        var differ = new ViewDiffer();
        differ.Snapshot(Page(Totals(3), Row("a"), Row("b"), Row("c")));

        ViewDiff diff = differ.Diff(Page(Totals(2), Row("a", successful: 5), Row("c")), droppedTransitions: 0);

        Assert.Equal(["a"], diff.Changed!.Select(r => r.Name));
        Assert.Equal(5, diff.Changed![0].Successful);
        Assert.Equal(["b"], diff.Removed);
        Assert.Null(diff.Order); // removing b leaves a, c in order
        Assert.Equal(Totals(2), diff.Totals);
    }

    [Fact]
    public void Diff_RowMovedUp_SendsTheWholeOrder_AndNewRowsAtTheEndNeedNone()
    {
        var differ = new ViewDiffer();
        differ.Snapshot(Page(Totals(2), Row("a"), Row("b")));

        ViewDiff moved = differ.Diff(Page(Totals(2), Row("b", CircuitState.Open), Row("a")), droppedTransitions: 0);
        ViewDiff appended = differ.Diff(Page(Totals(3), Row("b", CircuitState.Open), Row("a"), Row("c")), droppedTransitions: 3);

        Assert.Equal(["b", "a"], moved.Order);
        Assert.Equal(["b"], moved.Changed!.Select(r => r.Name));
        Assert.Null(appended.Order);
        Assert.Equal(["c"], appended.Changed!.Select(r => r.Name));
        Assert.Equal(3, appended.DroppedTransitions);
        Assert.Equal(3, appended.Seq);
    }

    [Fact]
    public void Diff_RetryAtWobblesByMicroseconds_IsNotResent_ButAReopenedCircuitIs()
    {
        var differ = new ViewDiffer();
        DateTimeOffset retryAt = TestBreakers.Start.AddSeconds(30);
        differ.Snapshot(Page(Totals(1), Row("a", CircuitState.Open) with { RetryAt = retryAt }));

        ViewDiff wobble = differ.Diff(Page(Totals(1), Row("a", CircuitState.Open) with { RetryAt = retryAt.AddTicks(37) }), 0);
        ViewDiff reopened = differ.Diff(Page(Totals(1), Row("a", CircuitState.Open) with { RetryAt = retryAt.AddSeconds(60) }), 0);

        Assert.Null(wobble.Changed);
        Assert.Equal(retryAt.AddSeconds(60), Assert.Single(reopened.Changed!).RetryAt);
    }

    [Fact]
    public void Diff_PageCountChanged_SendsThePosition()
    {
        var differ = new ViewDiffer();
        differ.Snapshot(Page(Totals(1), Row("a")));

        ViewDiff diff = differ.Diff(new ViewPage(TestBreakers.Start, Position with { Pages = 2 }, Totals(51), [Row("a")]), 0);

        Assert.Equal(2, diff.View!.Pages);
    }

    [Fact]
    public void Diff_RowLeavesThePageThenComesBack_IsRemovedThenSentWholeInItsPlace()
    {
        var differ = new ViewDiffer();
        differ.Snapshot(Page(Totals(3), Row("a"), Row("b"), Row("c")));

        ViewDiff left = differ.Diff(Page(Totals(2), Row("a"), Row("c")), droppedTransitions: 0);
        ViewDiff quiet = differ.Diff(Page(Totals(2), Row("a"), Row("c")), droppedTransitions: 0);
        ViewDiff back = differ.Diff(Page(Totals(3), Row("a"), Row("b"), Row("c")), droppedTransitions: 0);
        ViewDiff after = differ.Diff(Page(Totals(3), Row("a"), Row("b"), Row("c")), droppedTransitions: 0);

        Assert.Equal(["b"], left.Removed);
        Assert.Null(left.Changed);
        Assert.Null(quiet.Removed); // removed once, not again
        Assert.Null(quiet.Changed);

        // The client dropped the row: it comes back whole (though its values are what was sent before it left), and in
        // the middle of the page, so with the order.
        CircuitRow again = Assert.Single(back.Changed!);
        Assert.Equal(Row("b"), again);
        Assert.Null(back.Removed);
        Assert.Equal(["a", "b", "c"], back.Order);

        // It is on the client's page again: the next diff is empty.
        Assert.Equal(new ViewDiff(5, TestBreakers.Start, null, null, null, null, null, null), after);
    }

    [Fact]
    public void Diff_RowLeavesAndComesBackChanged_AtTheEnd_IsSentWithItsNewValuesAndNoOrder()
    {
        var differ = new ViewDiffer();
        differ.Snapshot(Page(Totals(2), Row("a"), Row("b")));

        ViewDiff left = differ.Diff(Page(Totals(1), Row("a")), droppedTransitions: 0);
        ViewDiff back = differ.Diff(Page(Totals(2), Row("a"), Row("b", successful: 7)), droppedTransitions: 0);

        Assert.Equal(["b"], left.Removed);
        Assert.Equal([Row("b", successful: 7)], back.Changed!);
        Assert.Null(back.Removed);
        Assert.Null(back.Order); // appended at the end: no order needed
    }

    private static ViewTotals Totals(int closed) => new(closed, closed, 0, 0, 0, closed);

    private static ViewPage Page(ViewTotals totals, params CircuitRow[] rows) => new(TestBreakers.Start, Position, totals, rows);

    private static CircuitRow Row(string name, CircuitState state = CircuitState.Closed, long successful = 1)
        => new(name, state, 0, successful, successful, 0, 0, 0, 0, 0, 1.0, null, 0, null);
}
