using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using OxiVec.Hosting.Qdrant.Translation;
using OxiVec.Storage;

namespace OxiVec.Hosting.Qdrant;

/// <summary>Point reads: get one, retrieve many.</summary>
internal sealed class PointEndpoints(QdrantLimits limits)
{
    public void Map(IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/collections/{name}/points/{id}", GetOne);
        endpoints.MapPost("/collections/{name}/points", RetrieveAsync);
    }

    private static IResult GetOne(string name, string id, OxiVecDatabaseHost host)
    {
        long started = Stopwatch.GetTimestamp();
        VectorDatabase database = host.Database;
        CollectionEndpoints.Require(database, name);
        string key = QdrantPointId.Parse(id, "id");
        VectorRecord record = database.Get(name, key) ?? throw QdrantNotFound.Point(key);
        return QdrantResponse.Ok(new PointJson(record.Id, record.Metadata, record.Vector.ToArray()), started);
    }

    private async Task<IResult> RetrieveAsync(string name, HttpRequest request, OxiVecDatabaseHost host, CancellationToken cancellationToken)
    {
        long started = Stopwatch.GetTimestamp();
        VectorDatabase database = host.Database;
        CollectionEndpoints.Require(database, name);
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
                points.Add(new PointJson(record.Id, output.Select(record.Metadata), output.Vector ? record.Vector.ToArray() : null));
            }
        }

        return QdrantResponse.Ok(points, started);
    }
}
