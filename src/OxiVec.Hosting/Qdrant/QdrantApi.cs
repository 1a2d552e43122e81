using System.Diagnostics;
using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace OxiVec.Hosting.Qdrant;

/// <summary>Maps the Qdrant-compatible REST API (the supported subset is listed in docs/server.md).</summary>
public static class QdrantApi
{
    /// <summary>The title <c>GET /</c> answers with.</summary>
    public const string Title = "oxivec - vector search engine (Qdrant-compatible REST)";

    /// <summary>Maps every Qdrant endpoint OxiVec serves.</summary>
    public static IEndpointRouteBuilder MapQdrantApi(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.MapGet("/", () => QdrantResponseRoot(Stopwatch.GetTimestamp()));
        CollectionEndpoints.Map(endpoints);
        PointEndpoints.Map(endpoints);
        return endpoints;
    }

    private static IResult QdrantResponseRoot(long started)
    {
        _ = started;
        string version = typeof(QdrantApi).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";
        return Results.Json(new Root(Title, version), QdrantResponse.Json);
    }

    private sealed record Root(string Title, string Version);
}
