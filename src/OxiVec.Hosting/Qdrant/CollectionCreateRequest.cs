using System.Text.Json;
using OxiVec.Hosting.Qdrant.Translation;
using OxiVec.Indexing;
using OxiVec.Storage;

namespace OxiVec.Hosting.Qdrant;

/// <summary>
/// Qdrant's <c>CreateCollection</c> body as OxiVec <see cref="CollectionOptions"/>: one unnamed dense vector
/// (<c>vectors: {size, distance}</c>) and <c>hnsw_config</c> (<c>m</c>, <c>ef_construct</c>; <c>m: 0</c> is Qdrant's
/// "no graph", an exact index). Everything else Qdrant can configure is refused by name, unless it asks for what
/// OxiVec does anyway (one shard, one replica, vectors and payloads in memory, float32).
/// </summary>
internal static class CollectionCreateRequest
{
    public static CollectionOptions Parse(JsonElement body, QdrantLimits limits)
    {
        QdrantJson.RefuseUnknown(
            body, "", "vectors", "hnsw_config", "shard_number", "replication_factor", "write_consistency_factor", "on_disk_payload");
        RequireValue(body, "shard_number", 1, "sharding");
        RequireValue(body, "replication_factor", 1, "replication");
        RequireValue(body, "write_consistency_factor", 1, "replication");
        RequireFalse(body, "on_disk_payload", "payloads on disk");

        JsonElement vectors = QdrantJson.Optional(body, "vectors");
        if (vectors.ValueKind != JsonValueKind.Object)
        {
            throw new QdrantRequestException("vectors", "vectors: {size, distance} is required (OxiVec collections have one unnamed dense vector).");
        }

        string vectorsPath = "vectors";
        if (!vectors.TryGetProperty("size", out _) && !vectors.TryGetProperty("distance", out _))
        {
            // Qdrant's named form with the one name "" (LangChain creates collections so) is the unnamed vector.
            if (!(vectors.EnumerateObject().Count() == 1 && vectors.TryGetProperty("", out JsonElement unnamed) && unnamed.ValueKind == JsonValueKind.Object))
            {
                throw new QdrantRequestException("vectors", "named vectors are not supported: OxiVec collections have one unnamed vector (vectors: {size, distance}, or {\"\": {size, distance}}).");
            }

            vectors = unnamed;
            vectorsPath = "vectors[\"\"]";
        }

        QdrantJson.RefuseUnknown(vectors, vectorsPath, "size", "distance", "hnsw_config", "on_disk", "datatype");
        RequireFalse(vectors, "on_disk", "vectors on disk", "vectors");
        JsonElement datatype = QdrantJson.Optional(vectors, "datatype");
        if (datatype.ValueKind != JsonValueKind.Undefined && !(datatype.ValueKind == JsonValueKind.String && datatype.GetString() == "float32"))
        {
            throw new QdrantRequestException("vectors.datatype", "OxiVec stores float32 vectors only.");
        }

        JsonElement sizeElement = QdrantJson.Optional(vectors, "size");
        if (sizeElement.ValueKind != JsonValueKind.Number || !sizeElement.TryGetInt64(out long size) || size < 1)
        {
            throw new QdrantRequestException("vectors.size", "the vector size is a positive integer.");
        }

        limits.CheckDimension(size, "vectors.size");
        DistanceMetric metric = Distance(QdrantJson.Optional(vectors, "distance"));

        // The vector's own hnsw_config overrides the collection's, field by field, as in Qdrant.
        JsonElement collectionHnsw = QdrantJson.Object(QdrantJson.Optional(body, "hnsw_config"), "hnsw_config");
        JsonElement vectorHnsw = QdrantJson.Object(QdrantJson.Optional(vectors, "hnsw_config"), "vectors.hnsw_config");
        CheckHnswFields(collectionHnsw, "hnsw_config");
        CheckHnswFields(vectorHnsw, "vectors.hnsw_config");
        var defaults = new HnswParameters();
        (int m, string mPath) = HnswField(vectorHnsw, collectionHnsw, "m", defaults.M);
        (int ef, string efPath) = HnswField(vectorHnsw, collectionHnsw, "ef_construct", defaults.EfConstruction);
        if (m == 1 || m > HnswParameters.MaxM)
        {
            throw new QdrantRequestException(mPath, $"OxiVec supports m from 2 to {HnswParameters.MaxM}, or 0 for an exact index without a graph; got {m}.");
        }

        if (ef < 4 || ef > HnswParameters.MaxEfConstruction)
        {
            throw new QdrantRequestException(efPath, $"ef_construct is from 4 to {HnswParameters.MaxEfConstruction}; got {ef}.");
        }

        return m == 0
            ? new CollectionOptions((int)size) { Metric = metric, Index = IndexKind.Flat }
            : new CollectionOptions((int)size) { Metric = metric, Hnsw = new HnswParameters { M = m, EfConstruction = ef } };
    }

    /// <summary>Qdrant's distance names.</summary>
    public static DistanceMetric Distance(JsonElement distance) =>
        (distance.ValueKind == JsonValueKind.String ? distance.GetString() : null) switch
        {
            "Cosine" => DistanceMetric.Cosine,
            "Euclid" => DistanceMetric.Euclidean,
            "Dot" => DistanceMetric.DotProduct,
            "Manhattan" => throw new QdrantRequestException("vectors.distance", "OxiVec does not support the Manhattan distance (supported: Cosine, Euclid, Dot)."),
            _ => throw new QdrantRequestException("vectors.distance", $"Cosine, Euclid or Dot is expected; got {(distance.ValueKind == JsonValueKind.String ? $"'{distance.GetString()}'" : QdrantJson.Kind(distance))}."),
        };

    /// <summary>Qdrant's name of <paramref name="metric"/>.</summary>
    public static string DistanceName(DistanceMetric metric) => metric switch
    {
        DistanceMetric.Cosine => "Cosine",
        DistanceMetric.Euclidean => "Euclid",
        DistanceMetric.DotProduct => "Dot",
        _ => throw new ArgumentOutOfRangeException(nameof(metric), metric, "No Qdrant name."),
    };

    private static void CheckHnswFields(JsonElement hnsw, string path)
    {
        QdrantJson.RefuseUnknown(hnsw, path, "m", "ef_construct", "on_disk", "max_indexing_threads");
        RequireFalse(hnsw, "on_disk", "an HNSW graph on disk", path);
        RequireValue(hnsw, "max_indexing_threads", 0, "a fixed number of indexing threads (0, automatic, is what OxiVec does)", path);
    }

    private static (int Value, string Path) HnswField(JsonElement vectorHnsw, JsonElement collectionHnsw, string name, int defaultValue)
    {
        if (QdrantJson.Optional(vectorHnsw, name).ValueKind != JsonValueKind.Undefined)
        {
            return (QdrantJson.Int(vectorHnsw, name, defaultValue, "vectors.hnsw_config"), $"vectors.hnsw_config.{name}");
        }

        return (QdrantJson.Int(collectionHnsw, name, defaultValue, "hnsw_config"), $"hnsw_config.{name}");
    }

    private static void RequireValue(JsonElement obj, string name, int only, string feature, string path = "")
    {
        JsonElement value = QdrantJson.Optional(obj, name);
        if (value.ValueKind != JsonValueKind.Undefined && !(value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out long n) && n == only))
        {
            throw new QdrantRequestException(QdrantJson.Join(path, name), $"OxiVec does not support {feature}: only {only} is accepted.");
        }
    }

    private static void RequireFalse(JsonElement obj, string name, string feature, string path = "")
    {
        JsonElement value = QdrantJson.Optional(obj, name);
        if (value.ValueKind != JsonValueKind.Undefined && value.ValueKind != JsonValueKind.False)
        {
            throw new QdrantRequestException(QdrantJson.Join(path, name), $"OxiVec does not support {feature}: only false is accepted (OxiVec keeps them in memory).");
        }
    }
}
