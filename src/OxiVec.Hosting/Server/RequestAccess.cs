using Microsoft.AspNetCore.Http;

namespace OxiVec.Hosting.Server;

/// <summary>
/// Tells reads from writes by method and path, for the read-only API key: GET and HEAD anywhere, and the POSTs of
/// Qdrant's API that only read or search (retrieve, scroll, count, search, query, recommend, discover, facet, and
/// their batch and group forms). Everything else is a write.
/// </summary>
internal static class RequestAccess
{
    // The paths under /collections/{name}/points that a POST reads ("" is POST .../points: retrieve by ids).
    private static readonly HashSet<string> ReadingPosts = new(StringComparer.OrdinalIgnoreCase)
    {
        "", "scroll", "count", "search", "search/batch", "search/groups", "search/matrix/pairs", "search/matrix/offsets",
        "query", "query/batch", "query/groups", "recommend", "recommend/batch", "recommend/groups", "discover", "discover/batch",
    };

    /// <summary>The probes, which answer without a key: <c>/livez</c> and <c>/readyz</c>.</summary>
    public static bool IsProbe(PathString path) =>
        path.Equals("/livez", StringComparison.OrdinalIgnoreCase) || path.Equals("/readyz", StringComparison.OrdinalIgnoreCase);

    /// <summary>Whether a request of <paramref name="method"/> to <paramref name="path"/> only reads.</summary>
    public static bool IsRead(string method, PathString path)
    {
        if (HttpMethods.IsGet(method) || HttpMethods.IsHead(method))
        {
            return true;
        }

        if (!HttpMethods.IsPost(method))
        {
            return false;
        }

        string[] segments = (path.Value ?? "").Trim('/').Split('/');
        if (segments.Length >= 3 && segments[0].Equals("collections", StringComparison.OrdinalIgnoreCase)
            && segments[1].Length > 0 && segments[2].Equals("points", StringComparison.OrdinalIgnoreCase))
        {
            return ReadingPosts.Contains(string.Join('/', segments[3..]));
        }

        // POST /collections/{name}/facet: counts of payload values.
        return segments.Length == 3 && segments[0].Equals("collections", StringComparison.OrdinalIgnoreCase)
            && segments[1].Length > 0 && segments[2].Equals("facet", StringComparison.OrdinalIgnoreCase);
    }
}
