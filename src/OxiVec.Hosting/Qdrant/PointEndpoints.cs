using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using OxiVec.Hosting.Qdrant.Translation;
using OxiVec.Indexing;
using OxiVec.Storage;

namespace OxiVec.Hosting.Qdrant;

/// <summary>Point reads: get one, retrieve many, scroll (in Qdrant's id order: integers by value, then UUIDs), count.</summary>
internal sealed class PointEndpoints(QdrantLimits limits)
{
    public void Map(IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/collections/{name}/points/{id}", GetOne);
        endpoints.MapPost("/collections/{name}/points", RetrieveAsync);
        endpoints.MapPost("/collections/{name}/points/scroll", ScrollAsync);
        endpoints.MapPost("/collections/{name}/points/count", CountAsync);
    }

    private static IResult GetOne(string name, string id, HttpRequest request, OxiVecDatabaseHost host)
    {
        long started = Stopwatch.GetTimestamp();
        VectorDatabase database = host.Database;
        DistanceMetric metric = CollectionEndpoints.Require(database, name).Options.Metric;
        string key = QdrantPointId.Parse(id, "id");
        VectorRecord record = database.Get(name, key) ?? throw QdrantNotFound.Point(key);
        return QdrantResponse.Ok(new PointJson(record.Id, record.Metadata, StoredVector.For(metric, record.Vector, StoredVector.AsStored(request))), started);
    }

    private async Task<IResult> RetrieveAsync(string name, HttpRequest request, OxiVecDatabaseHost host, CancellationToken cancellationToken)
    {
        long started = Stopwatch.GetTimestamp();
        VectorDatabase database = host.Database;
        DistanceMetric metric = CollectionEndpoints.Require(database, name).Options.Metric;
        using JsonDocument body = await QdrantJson.ReadBodyAsync(request, cancellationToken).ConfigureAwait(false);
        JsonElement root = body.RootElement;
        QdrantJson.RefuseUnknown(root, "", "ids", "with_payload", "with_vector");
        List<string> ids = new UpdateParser(limits, 0).Ids(QdrantJson.Array(root, "ids", ""), "ids");
        PointOutput output = PointOutput.Parse(root, payloadByDefault: true);
        var points = new List<PointJson>(ids.Count);
        foreach (string id in ids.Distinct(StringComparer.Ordinal))
        {
            if (database.Get(name, id) is { } record)
            {
                points.Add(new PointJson(record.Id, output.Select(record.Metadata), output.Vector ? StoredVector.For(metric, record.Vector, StoredVector.AsStored(request)) : null));
            }
        }

        return QdrantResponse.Ok(points, started);
    }

    private async Task<IResult> ScrollAsync(string name, HttpRequest request, OxiVecDatabaseHost host, CancellationToken cancellationToken)
    {
        long started = Stopwatch.GetTimestamp();
        VectorDatabase database = host.Database;
        DistanceMetric metric = CollectionEndpoints.Require(database, name).Options.Metric;
        using JsonDocument body = await QdrantJson.ReadBodyAsync(request, cancellationToken).ConfigureAwait(false);
        JsonElement root = body.RootElement;
        if (QdrantJson.Optional(root, "order_by").ValueKind != JsonValueKind.Undefined)
        {
            throw new QdrantRequestException("order_by", "OxiVec does not support ordering a scroll by a payload field; it scrolls in point id order.");
        }

        QdrantJson.RefuseUnknown(root, "", "filter", "limit", "offset", "with_payload", "with_vector");
        int limit = QdrantJson.Int(root, "limit", 10, "", min: 1);
        limits.CheckLimit(limit, 0, "limit");
        JsonElement offset = QdrantJson.Optional(root, "offset");
        string? from = offset.ValueKind == JsonValueKind.Undefined ? null : QdrantPointId.Parse(offset, "offset");
        MetadataFilter? filter = QdrantFilter.Translate(QdrantJson.Object(QdrantJson.Optional(root, "filter"), "filter"), limits.MaxFilterDepth);
        PointOutput output = PointOutput.Parse(root, payloadByDefault: true);

        IReadOnlyList<VectorRecord> page = database.Scroll(name, filter, from, limit + 1); // the extra one is the next page's offset
        var points = new List<PointJson>(Math.Min(limit, page.Count));
        foreach (VectorRecord record in page.Take(limit))
        {
            points.Add(new PointJson(record.Id, output.Select(record.Metadata), output.Vector ? StoredVector.For(metric, record.Vector, StoredVector.AsStored(request)) : null));
        }

        return QdrantResponse.Ok(new ScrollResult(points, page.Count > limit ? new PointIdJson(page[limit].Id) : null), started);
    }

    private async Task<IResult> CountAsync(string name, HttpRequest request, OxiVecDatabaseHost host, CancellationToken cancellationToken)
    {
        long started = Stopwatch.GetTimestamp();
        VectorDatabase database = host.Database;
        CollectionEndpoints.Require(database, name);
        using JsonDocument body = await QdrantJson.ReadBodyAsync(request, cancellationToken).ConfigureAwait(false);
        JsonElement root = body.RootElement;
        QdrantJson.RefuseUnknown(root, "", "filter", "exact");
        _ = QdrantJson.Bool(root, "exact", true, ""); // OxiVec's count is always exact
        MetadataFilter? filter = QdrantFilter.Translate(QdrantJson.Object(QdrantJson.Optional(root, "filter"), "filter"), limits.MaxFilterDepth);
        return QdrantResponse.Ok(new CountResult(database.Count(name, filter)), started);
    }

    private sealed record ScrollResult(List<PointJson> Points, PointIdJson? NextPageOffset);

    private sealed record CountResult(long Count);
}
