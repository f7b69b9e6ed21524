namespace Tripswitch.Dashboard.Internal;

/// <summary>
/// What one event-stream client was last sent, and so what to send it next: the first page whole (a
/// <see cref="ViewSnapshot"/>), then only what changed (a <see cref="ViewDiff"/>). Used by that client's stream loop
/// only: not thread-safe.
/// </summary>
internal sealed class ViewDiffer
{
    private readonly Dictionary<string, CircuitRow> _sent = new(StringComparer.Ordinal);
    private List<string> _order = [];
    private ViewPosition? _position;
    private ViewTotals? _totals;
    private long _seq;

    /// <summary>The sequence number of the last event made.</summary>
    public long Seq => _seq;

    /// <summary>The whole page; what later diffs are against.</summary>
    public ViewSnapshot Snapshot(ViewPage page)
    {
        _sent.Clear();
        Remember(page);
        return new ViewSnapshot(++_seq, page.GeneratedAt, page.Position, page.Totals, page.Rows);
    }

    /// <summary>What changed since the last snapshot or diff; an empty diff when nothing did.</summary>
    /// <param name="page">The page now.</param>
    /// <param name="droppedTransitions">Transitions the client missed since the last event, if any.</param>
    public ViewDiff Diff(ViewPage page, long droppedTransitions)
    {
        List<CircuitRow>? changed = null;
        List<string>? removed = null;
        var onPage = new HashSet<string>(StringComparer.Ordinal);
        foreach (CircuitRow row in page.Rows)
        {
            onPage.Add(row.Name);
            if (!_sent.TryGetValue(row.Name, out CircuitRow? sent) || !row.SameAs(sent))
            {
                (changed ??= []).Add(row);
            }
        }

        foreach (string name in _order)
        {
            if (!onPage.Contains(name))
            {
                (removed ??= []).Add(name);
            }
        }

        // A page that only gained rows at its end, or only lost some, needs no order: the page applies "removed",
        // then "changed" (appending new rows). Anything else (a row that moved) sends the whole order.
        List<string> order = [.. page.Rows.Select(r => r.Name)];
        bool reordered = !order.SequenceEqual(_order, StringComparer.Ordinal) && !IsAppendOrRemoveOnly(order, removed);
        ViewPosition? position = page.Position == _position ? null : page.Position;
        ViewTotals? totals = page.Totals == _totals ? null : page.Totals;
        foreach (string name in removed ?? [])
        {
            _sent.Remove(name);
        }

        Remember(page, keepUnchanged: true);
        return new ViewDiff(
            ++_seq,
            page.GeneratedAt,
            position,
            totals,
            changed,
            removed,
            reordered ? order : null,
            droppedTransitions > 0 ? droppedTransitions : null);
    }

    private void Remember(ViewPage page, bool keepUnchanged = false)
    {
        foreach (CircuitRow row in page.Rows)
        {
            // A row equal within tolerance keeps what was sent, so its drift can't pile up unsent.
            if (!keepUnchanged || !_sent.TryGetValue(row.Name, out CircuitRow? sent) || !row.SameAs(sent))
            {
                _sent[row.Name] = row;
            }
        }

        _order = [.. page.Rows.Select(r => r.Name)];
        _position = page.Position;
        _totals = page.Totals;
    }

    /// <summary>Whether the old order, less the removed names, followed by the new names, is the new order.</summary>
    private bool IsAppendOrRemoveOnly(List<string> order, List<string>? removed)
    {
        HashSet<string> gone = removed is null ? [] : new HashSet<string>(removed, StringComparer.Ordinal);
        List<string> kept = [.. _order.Where(n => !gone.Contains(n))];
        return order.Count >= kept.Count && order.Take(kept.Count).SequenceEqual(kept, StringComparer.Ordinal);
    }
}
