using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Tripswitch.Dashboard.Internal;

/// <summary>How the event stream's rows are ordered.</summary>
internal enum ViewSort
{
    /// <summary>Open first, then half-open, isolated and closed; by name within a state (the default).</summary>
    State,

    /// <summary>By name (ordinal).</summary>
    Name,

    /// <summary>Most failed calls first; by name among equals.</summary>
    Failed,
}

/// <summary>
/// The view one event-stream client asked for (its query string): which circuits (name substring, state), in which
/// order, and which page of them. The server sends only that page, plus the totals.
/// </summary>
/// <param name="Filter">A substring of the name (ordinal, case-insensitive); <see langword="null"/> for every name.</param>
/// <param name="State">Only circuits in this state; <see langword="null"/> for every state.</param>
/// <param name="Sort">The order of the rows.</param>
/// <param name="Page">The page asked for, from 1 (a page past the last shows the last).</param>
/// <param name="PageSize">Rows per page.</param>
internal sealed record ViewQuery(string? Filter, CircuitState? State, ViewSort Sort, int Page, int PageSize)
{
    public static readonly ViewQuery Default = new(null, null, ViewSort.State, 1, DashboardDefaults.PageSize);

    private static readonly string[] SortNames = ["state", "name", "failed"];

    /// <summary>
    /// Reads <c>q</c>, <c>state</c>, <c>sort</c>, <c>page</c> and <c>pageSize</c>; an absent or empty one takes its
    /// default. A bad value is refused with a message naming the parameter, the value and what is valid.
    /// </summary>
    public static bool TryParse(IQueryCollection query, out ViewQuery view, out string? error)
    {
        view = Default;
        error = null;
        string? filter = null;
        CircuitState? state = null;
        ViewSort sort = ViewSort.State;
        int page = 1, pageSize = DashboardDefaults.PageSize;
        foreach (KeyValuePair<string, StringValues> parameter in query)
        {
            if (parameter.Value.Count > 1)
            {
                error = $"The query parameter '{parameter.Key}' is given {parameter.Value.Count} times; give it once.";
                return false;
            }

            string value = parameter.Value.ToString();
            bool ok = parameter.Key switch
            {
                "q" => TryFilter(value, out filter, out error),
                "state" => TryState(value, out state, out error),
                "sort" => TrySort(value, out sort, out error),
                "page" => TryNumber("page", value, 1, int.MaxValue, ref page, out error),
                "pageSize" => TryNumber("pageSize", value, 1, DashboardDefaults.MaxPageSize, ref pageSize, out error),
                _ => Unknown(parameter.Key, out error),
            };
            if (!ok)
            {
                return false;
            }
        }

        view = new ViewQuery(filter, state, sort, page, pageSize);
        return true;
    }

    /// <summary>The sort's name in the query string and in the stream's JSON.</summary>
    public static string NameOf(ViewSort sort) => SortNames[(int)sort];

    /// <summary>Whether a circuit named <paramref name="name"/> in <paramref name="state"/> is in the view.</summary>
    public bool Matches(string name, CircuitState state)
        => (State is null || State == state) && (Filter is null || name.Contains(Filter, StringComparison.OrdinalIgnoreCase));

    private static bool TryFilter(string value, out string? filter, out string? error)
    {
        filter = value.Length == 0 ? null : value;
        error = value.Length > DashboardDefaults.MaxFilterLength
            ? $"The query parameter 'q' (a part of the circuit name) must be at most {DashboardDefaults.MaxFilterLength} characters; it was {value.Length}."
            : null;
        return error is null;
    }

    private static bool TryState(string value, out CircuitState? state, out string? error)
    {
        state = null;
        error = null;
        if (value.Length == 0)
        {
            return true;
        }

        // Names only: Enum.TryParse would also take numbers such as "7".
        foreach (CircuitState candidate in Enum.GetValues<CircuitState>())
        {
            if (string.Equals(value, candidate.ToString(), StringComparison.OrdinalIgnoreCase))
            {
                state = candidate;
                return true;
            }
        }

        error = $"The query parameter 'state' must be one of {string.Join(", ", Enum.GetNames<CircuitState>())} (or empty for every state); it was '{value}'.";
        return false;
    }

    private static bool TrySort(string value, out ViewSort sort, out string? error)
    {
        sort = ViewSort.State;
        error = null;
        int index = value.Length == 0 ? 0 : Array.FindIndex(SortNames, name => string.Equals(name, value, StringComparison.OrdinalIgnoreCase));
        if (index < 0)
        {
            error = $"The query parameter 'sort' must be one of {string.Join(", ", SortNames)}; it was '{value}'.";
            return false;
        }

        sort = (ViewSort)index;
        return true;
    }

    private static bool TryNumber(string name, string value, int min, int max, ref int result, out string? error)
    {
        error = null;
        if (value.Length == 0)
        {
            return true;
        }

        if (int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int parsed) && parsed >= min && parsed <= max)
        {
            result = parsed;
            return true;
        }

        error = string.Create(CultureInfo.InvariantCulture, $"The query parameter '{name}' must be a whole number from {min} to {max}; it was '{value}'.");
        return false;
    }

    private static bool Unknown(string name, out string? error)
    {
        error = $"Unknown query parameter '{name}'; the event stream takes q, state, sort, page and pageSize.";
        return false;
    }
}
