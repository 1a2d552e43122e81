using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace OxiVec.Hosting.Qdrant;

/// <summary>
/// Qdrant paths OxiVec does not serve answer 404 naming the feature (snapshots, aliases, shards, cluster, payload
/// indexes, recommend, discover, facet, groups, distance matrices, named vectors...), instead of a bare 404 or 405.
/// </summary>
internal static class UnsupportedEndpoints
{
    private static readonly (string Segment, string Feature)[] Features =
    [
        ("snapshots", "snapshots"),
        ("aliases", "aliases"),
        ("shards", "shards and shard keys"),
        ("cluster", "clustering (OxiVec runs on one node)"),
        ("index", "payload indexes (filters work on every payload field without one)"),
        ("vectors", "named vectors (an OxiVec collection has one unnamed vector)"),
        ("facet", "facets"),
        ("optimizations", "optimizer reports (OxiVec has no optimizer)"),
        ("recommend", "the recommend API"),
        ("discover", "the discover API"),
        ("groups", "grouped search"),
        ("matrix", "distance matrices"),
        ("telemetry", "Qdrant's telemetry (see /metrics)"),
        ("issues", "Qdrant's issues report"),
        ("quotas", "quotas"),
    ];

    public static void Map(IEndpointRouteBuilder endpoints)
    {
        endpoints.Map("/collections/{name}/{**rest}", (HttpRequest request) => Refuse(request));
        endpoints.Map("/collections/aliases", (HttpRequest request) => Refuse(request));
        foreach (string root in new[] { "aliases", "snapshots", "cluster", "telemetry", "issues", "quotas" })
        {
            endpoints.Map($"/{root}/{{**rest}}", (HttpRequest request) => Refuse(request));
        }
    }

    private static IResult Refuse(HttpRequest request)
    {
        long started = Stopwatch.GetTimestamp();
        string path = request.Path.Value ?? "";
        string[] segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        string feature = segments.Skip(segments.Length > 0 && segments[0] == "collections" ? 2 : 0)
            .Select(s => Features.FirstOrDefault(f => f.Segment == s).Feature)
            .FirstOrDefault(f => f is not null)
            ?? (segments.Length > 0 && segments[0] == "collections" && segments.Skip(1).FirstOrDefault() == "aliases" ? "aliases" : null)
            ?? "this endpoint";
        return QdrantResponse.Error(StatusCodes.Status404NotFound, $"Not found: OxiVec does not support {feature} ({request.Method} {Truncate(path)}).", started);
    }

    private static string Truncate(string path) => path.Length <= 200 ? path : path[..200] + "...";
}
