using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Extensions;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Primitives;

namespace Tripswitch.Gateway.Security;

/// <summary>
/// The <c>key</c> query parameter of a request, taken out of its URL before anything sees the request (see
/// <see cref="KeyLiftingServer"/>): logs, routing, the forwarded query and the browser's address bar never hold it.
/// <see cref="AdminSignInMiddleware"/> reads it from here.
/// </summary>
internal sealed class QueryKey
{
    private const string Name = "key";

    private QueryKey(string? value) => Value = value;

    /// <summary>The key given, or <see langword="null"/> when the parameter was repeated (which is refused).</summary>
    public string? Value { get; }

    /// <summary>The key lifted from the request of <paramref name="features"/>, if its URL had one.</summary>
    public static QueryKey? Of(IFeatureCollection features) => features.Get<QueryKey>();

    /// <summary>
    /// Removes every <c>key</c> parameter (however its name is cased or percent-encoded) from the request's query
    /// string and raw target, and keeps its value in the request's features.
    /// </summary>
    public static void Lift(IFeatureCollection features)
    {
        features.Set<QueryKey>(null); // connections reuse feature collections: never carry one request's key to the next
        if (features.Get<IHttpRequestFeature>() is not { } request || request.QueryString.Length < 4)
        {
            return;
        }

        Dictionary<string, StringValues> query = QueryHelpers.ParseQuery(request.QueryString); // names decoded, case-insensitive
        if (!query.Remove(Name, out StringValues values))
        {
            return;
        }

        var rest = new QueryBuilder(query.SelectMany(static p => p.Value.Select(v => new KeyValuePair<string, string>(p.Key, v ?? ""))));
        string remaining = rest.ToQueryString().Value ?? "";
        request.QueryString = remaining;
        int question = request.RawTarget.IndexOf('?', StringComparison.Ordinal);
        request.RawTarget = (question < 0 ? request.RawTarget : request.RawTarget[..question]) + remaining;
        features.Set(new QueryKey(values.Count == 1 ? values[0] : null));
    }
}
