using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using OxiVec.Storage;

namespace OxiVec.Hosting.Qdrant;

/// <summary>
/// Point writes: upsert, delete, update vectors, set / overwrite / delete / clear payload, and the batch of any of
/// them. Each request is one transaction (a refused request changes nothing) acknowledged after the WAL policy
/// acknowledged it; its commit LSN is the <c>operation_id</c> and the <c>x-oxivec-lsn</c> header.
/// </summary>
internal sealed class PointWriteEndpoints(UpdateExecutor executor, QdrantLimits limits)
{
    public void Map(IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPut("/collections/{name}/points", (string name, HttpRequest request, OxiVecDatabaseHost host, CancellationToken ct) =>
            UpdateAsync(name, request, host, (p, body) => [p.Upsert(body, "")], batch: false, ct));
        endpoints.MapPost("/collections/{name}/points/delete", (string name, HttpRequest request, OxiVecDatabaseHost host, CancellationToken ct) =>
            UpdateAsync(name, request, host, (p, body) => [p.Delete(body, "")], batch: false, ct));
        endpoints.MapPut("/collections/{name}/points/vectors", (string name, HttpRequest request, OxiVecDatabaseHost host, CancellationToken ct) =>
            UpdateAsync(name, request, host, (p, body) => [p.UpdateVectors(body, "")], batch: false, ct));
        endpoints.MapPost("/collections/{name}/points/payload", (string name, HttpRequest request, OxiVecDatabaseHost host, CancellationToken ct) =>
            UpdateAsync(name, request, host, (p, body) => [p.SetPayload(body, overwrite: false, "")], batch: false, ct));
        endpoints.MapPut("/collections/{name}/points/payload", (string name, HttpRequest request, OxiVecDatabaseHost host, CancellationToken ct) =>
            UpdateAsync(name, request, host, (p, body) => [p.SetPayload(body, overwrite: true, "")], batch: false, ct));
        endpoints.MapPost("/collections/{name}/points/payload/delete", (string name, HttpRequest request, OxiVecDatabaseHost host, CancellationToken ct) =>
            UpdateAsync(name, request, host, (p, body) => [p.DeletePayload(body, "")], batch: false, ct));
        endpoints.MapPost("/collections/{name}/points/payload/clear", (string name, HttpRequest request, OxiVecDatabaseHost host, CancellationToken ct) =>
            UpdateAsync(name, request, host, (p, body) => [p.ClearPayload(body, "")], batch: false, ct));
        endpoints.MapPost("/collections/{name}/points/batch", (string name, HttpRequest request, OxiVecDatabaseHost host, CancellationToken ct) =>
            UpdateAsync(name, request, host, (p, body) => p.Batch(body), batch: true, ct));
    }

    private async Task<IResult> UpdateAsync(
        string name, HttpRequest request, OxiVecDatabaseHost host, Func<UpdateParser, JsonElement, List<UpdateOperation>> parse, bool batch,
        CancellationToken cancellationToken)
    {
        long started = Stopwatch.GetTimestamp();
        QdrantJson.CheckWait(request);
        VectorDatabase database = host.Database;
        CollectionInfo collection = CollectionEndpoints.Require(database, name);
        using JsonDocument body = await QdrantJson.ReadBodyAsync(request, cancellationToken).ConfigureAwait(false);
        List<UpdateOperation> operations = parse(new UpdateParser(limits, collection.Options.Dimension), body.RootElement);
        long lsn = await executor.ExecuteAsync(database, name, operations, cancellationToken).ConfigureAwait(false);
        CollectionEndpoints.SetLsn(request, lsn);
        var result = new UpdateResult(lsn, "completed");
        return batch ? QdrantResponse.Ok(operations.Select(_ => result).ToList(), started) : QdrantResponse.Ok(result, started);
    }

    /// <summary>Qdrant's <c>UpdateResult</c>: OxiVec answers after the WAL policy acknowledged the write, so always <c>completed</c>.</summary>
    private sealed record UpdateResult(long OperationId, string Status);
}
