using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using OxiVec.Hosting.Qdrant;
using OxiVec.Storage;

namespace OxiVec.Hosting.Server;

/// <summary>
/// OxiVec's own endpoints, under <c>/oxivec/</c>, in Qdrant's envelope with snake_case names:
/// <c>POST /oxivec/checkpoint</c>, <c>GET /oxivec/wal/metrics</c>, <c>GET /oxivec/wal/health</c>,
/// <c>GET /oxivec/recovery</c> and <c>GET /oxivec/collections/{name}/index</c>. While the database is not open they
/// answer 503 (<see cref="DatabaseUnavailableException"/>).
/// </summary>
public static class OxiVecEndpoints
{
    /// <summary>Maps the endpoints.</summary>
    public static IEndpointRouteBuilder MapOxiVecEndpoints(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        RouteGroupBuilder oxivec = endpoints.MapGroup("/oxivec");
        oxivec.MapPost("/checkpoint", (OxiVecDatabaseHost host) =>
        {
            long started = Stopwatch.GetTimestamp();
            return QdrantResponse.Ok(CheckpointResult.From(host.Database.Checkpoint()), started);
        });
        oxivec.MapGet("/wal/metrics", (OxiVecDatabaseHost host) =>
        {
            long started = Stopwatch.GetTimestamp();
            return QdrantResponse.Ok(WalMetricsResult.From(host.Database.GetWalMetrics()), started);
        });
        oxivec.MapGet("/wal/health", (OxiVecDatabaseHost host) =>
        {
            long started = Stopwatch.GetTimestamp();
            return QdrantResponse.Ok(WalHealthResult.From(host.Database.CheckHealth()), started);
        });
        oxivec.MapGet("/recovery", (OxiVecDatabaseHost host) =>
        {
            long started = Stopwatch.GetTimestamp();
            VectorDatabase database = host.Database;
            return QdrantResponse.Ok(RecoveryResult.From(database.Recovery, database.WalOpenReport), started);
        });
        oxivec.MapGet("/collections/{name}/index", (string name, OxiVecDatabaseHost host) =>
        {
            long started = Stopwatch.GetTimestamp();
            return QdrantResponse.Ok(CollectionIndexResult.From(host.Database.GetCollection(name)), started);
        });
        return endpoints;
    }
}
