using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using OxiVec.Hosting.Qdrant.Translation;
using OxiVec.Indexing;
using OxiVec.Storage;

namespace OxiVec.Hosting.Qdrant;

/// <summary>Collections: create (the first cut; the rest of Qdrant's collection API follows).</summary>
internal static class CollectionEndpoints
{
    public static void Map(IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPut("/collections/{name}", CreateAsync);
    }

    private static async Task<IResult> CreateAsync(string name, HttpRequest request, OxiVecDatabaseHost host, CancellationToken cancellationToken)
    {
        long started = Stopwatch.GetTimestamp();
        using JsonDocument body = await QdrantJson.ReadBodyAsync(request, cancellationToken).ConfigureAwait(false);
        JsonElement vectors = QdrantJson.Optional(body.RootElement, "vectors");
        if (vectors.ValueKind != JsonValueKind.Object)
        {
            throw new QdrantRequestException("vectors", "vectors: {size, distance} is required.");
        }

        int size = QdrantJson.Int(vectors, "size", 0, "vectors");
        if (size < 1)
        {
            throw new QdrantRequestException("vectors.size", "the vector size is a positive integer.");
        }

        DistanceMetric metric = QdrantJson.Optional(vectors, "distance").GetString() switch
        {
            "Cosine" => DistanceMetric.Cosine,
            "Euclid" => DistanceMetric.Euclidean,
            "Dot" => DistanceMetric.DotProduct,
            var other => throw new QdrantRequestException("vectors.distance", $"OxiVec supports Cosine, Euclid and Dot; got '{other}'."),
        };
        VectorDatabase database = host.Database;
        if (database.CollectionExists(name))
        {
            throw new QdrantRequestException("collection_name", $"Collection `{name}` already exists!");
        }

        database.CreateCollection(name, new CollectionOptions(size) { Metric = metric });
        return QdrantResponse.Ok(true, started);
    }
}
