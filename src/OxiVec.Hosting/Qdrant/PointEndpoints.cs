using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using OxiVec.Hosting.Qdrant.Translation;
using OxiVec.Storage;

namespace OxiVec.Hosting.Qdrant;

/// <summary>Points: upsert, get one, query (the first cut; the rest of Qdrant's points API follows).</summary>
internal static class PointEndpoints
{
    public static void Map(IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPut("/collections/{name}/points", UpsertAsync);
        endpoints.MapGet("/collections/{name}/points/{id}", GetOne);
        endpoints.MapPost("/collections/{name}/points/query", QueryAsync);
    }

    /// <summary>Upserts the points in one transaction (a rejected batch changes nothing); answers after the WAL policy acknowledged it.</summary>
    private static async Task<IResult> UpsertAsync(string name, HttpRequest request, OxiVecDatabaseHost host, CancellationToken cancellationToken)
    {
        long started = Stopwatch.GetTimestamp();
        using JsonDocument body = await QdrantJson.ReadBodyAsync(request, cancellationToken).ConfigureAwait(false);
        JsonElement points = QdrantJson.Optional(body.RootElement, "points");
        if (points.ValueKind != JsonValueKind.Array)
        {
            throw new QdrantRequestException("points", "points: [{id, vector, payload}] is required.");
        }

        VectorDatabase database = host.Database;
        using VectorTransaction transaction = database.BeginTransaction();
        int i = 0;
        foreach (JsonElement point in points.EnumerateArray())
        {
            string path = $"points[{i++}]";
            string id = QdrantPointId.Parse(QdrantJson.Optional(point, "id"), $"{path}.id");
            float[] vector = QdrantJson.Vector(QdrantJson.Optional(point, "vector"), $"{path}.vector");
            Dictionary<string, MetadataValue> payload = QdrantPayload.ToMetadata(QdrantJson.Optional(point, "payload"), $"{path}.payload");
            transaction.Upsert(name, id, vector, payload);
        }

        long lsn = transaction.Count == 0 ? 0 : await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        request.HttpContext.Response.Headers["x-oxivec-lsn"] = lsn.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return QdrantResponse.Ok(new UpdateResult(lsn, "completed"), started);
    }

    private static IResult GetOne(string name, string id, OxiVecDatabaseHost host)
    {
        long started = Stopwatch.GetTimestamp();
        string key = QdrantPointId.Parse(id, "id");
        VectorRecord record = host.Database.Get(name, key) ?? throw new KeyNotFoundException($"Not found: Point with id {id} does not exists!");
        return QdrantResponse.Ok(new PointJson(record.Id, record.Metadata, record.Vector.ToArray()), started);
    }

    private static async Task<IResult> QueryAsync(string name, HttpRequest request, OxiVecDatabaseHost host, CancellationToken cancellationToken)
    {
        long started = Stopwatch.GetTimestamp();
        using JsonDocument body = await QdrantJson.ReadBodyAsync(request, cancellationToken).ConfigureAwait(false);
        JsonElement root = body.RootElement;
        float[] query = QdrantJson.Vector(QdrantJson.Optional(root, "query"), "query");
        int limit = QdrantJson.Int(root, "limit", 10, "body");
        bool withPayload = QdrantJson.Bool(root, "with_payload", false, "body");
        bool withVector = QdrantJson.Bool(root, "with_vector", false, "body");
        MetadataFilter? filter = QdrantFilter.Translate(QdrantJson.Optional(root, "filter"), 32);
        VectorDatabase database = host.Database;
        IReadOnlyList<SearchResult> hits = limit == 0 ? [] : database.Search(name, query, limit, new VectorSearchOptions { Filter = filter });
        var points = new List<ScoredPointJson>(hits.Count);
        foreach (SearchResult hit in hits)
        {
            float[]? vector = withVector ? database.Get(name, hit.Id)?.Vector.ToArray() : null;
            points.Add(new ScoredPointJson(hit.Id, hit.Score, withPayload ? hit.Metadata : null, vector));
        }

        return QdrantResponse.Ok(new QueryResult(points), started);
    }

    private sealed record UpdateResult(long OperationId, string Status);

    private sealed record QueryResult(List<ScoredPointJson> Points);
}
