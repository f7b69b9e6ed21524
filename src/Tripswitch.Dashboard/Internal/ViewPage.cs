namespace Tripswitch.Dashboard.Internal;

/// <summary>One page of a view at one moment: where it is, the totals, and its rows in order.</summary>
internal sealed record ViewPage(DateTimeOffset GeneratedAt, ViewPosition Position, ViewTotals Totals, IReadOnlyList<CircuitRow> Rows)
{
    /// <summary>
    /// Takes the page of <paramref name="query"/> from <paramref name="registry"/>'s public API: the states of every
    /// circuit (for the totals, the filter and the default order), and a summary only of the circuits on the page
    /// (or of every matching one when sorting by failures), so a 10,000-circuit registry costs one pass over its
    /// states, not 10,000 summaries.
    /// </summary>
    public static ViewPage Take(CircuitBreakerRegistry registry, ViewQuery query, DateTimeOffset now)
    {
        IReadOnlyDictionary<string, CircuitState> status = registry.Status();
        int closed = 0, halfOpen = 0, open = 0, isolated = 0;
        var matching = new List<(string Name, CircuitState State)>();
        foreach (KeyValuePair<string, CircuitState> circuit in status)
        {
            switch (circuit.Value)
            {
                case CircuitState.Closed: closed++; break;
                case CircuitState.HalfOpen: halfOpen++; break;
                case CircuitState.Open: open++; break;
                case CircuitState.Isolated: isolated++; break;
            }

            if (query.Matches(circuit.Key, circuit.Value))
            {
                matching.Add((circuit.Key, circuit.Value));
            }
        }

        var totals = new ViewTotals(status.Count, closed, halfOpen, open, isolated, matching.Count);
        int pages = Math.Max(1, (int)Math.Ceiling(matching.Count / (double)query.PageSize));
        int page = Math.Min(query.Page, pages);
        var position = new ViewPosition(query.Filter, query.State, ViewQuery.NameOf(query.Sort), page, pages, query.PageSize);
        IEnumerable<string> names = query.Sort switch
        {
            ViewSort.Name => matching.Select(c => c.Name).Order(StringComparer.Ordinal),
            ViewSort.Failed => ByFailures(registry, matching),
            _ => matching.OrderBy(c => Rank(c.State)).ThenBy(c => c.Name, StringComparer.Ordinal).Select(c => c.Name),
        };

        var rows = new List<CircuitRow>(query.PageSize);
        foreach (string name in names.Skip((page - 1) * query.PageSize).Take(query.PageSize))
        {
            // A breaker evicted since Status() read the keys is simply left out.
            if (registry.TryGet(name, out CircuitBreaker? breaker))
            {
                rows.Add(RowOf(name, breaker.GetSummary(), now));
            }
        }

        return new ViewPage(now, position, totals, rows);
    }

    /// <summary>The default order: open, then half-open, isolated, closed (what needs a look first).</summary>
    private static int Rank(CircuitState state) => state switch
    {
        CircuitState.Open => 0,
        CircuitState.HalfOpen => 1,
        CircuitState.Isolated => 2,
        _ => 3,
    };

    private static IEnumerable<string> ByFailures(CircuitBreakerRegistry registry, List<(string Name, CircuitState State)> matching)
    {
        var failed = new List<(string Name, long Failed)>(matching.Count);
        foreach ((string name, _) in matching)
        {
            failed.Add((name, registry.TryGet(name, out CircuitBreaker? breaker) ? breaker.GetSummary().Failed : 0));
        }

        return failed.OrderByDescending(c => c.Failed).ThenBy(c => c.Name, StringComparer.Ordinal).Select(c => c.Name);
    }

    private static CircuitRow RowOf(string name, CircuitSummary summary, DateTimeOffset now)
    {
        IReadOnlyList<CircuitTransition> transitions = summary.Transitions;
        return new CircuitRow(
            name,
            summary.State,
            summary.ConsecutiveFailures,
            summary.TotalCalls,
            summary.Successful,
            summary.Failed,
            summary.Ignored,
            summary.Rejected,
            summary.SlowCalls,
            summary.ShadowRejected,
            summary.SuccessRate,
            summary.State == CircuitState.Open && summary.RetryAfter != TimeSpan.MaxValue ? now + summary.RetryAfter : null,
            summary.StateChanges,
            transitions.Count > 0 ? TransitionStatus.Of(transitions[^1]) : null);
    }
}
