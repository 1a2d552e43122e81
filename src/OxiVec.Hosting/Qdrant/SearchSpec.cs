using System.Text.Json;
using OxiVec.Hosting.Qdrant.Translation;
using OxiVec.Storage;

namespace OxiVec.Hosting.Qdrant;

/// <summary>
/// One nearest-neighbour search, read from Qdrant's <c>QueryRequest</c> (<c>/points/query</c>) or legacy
/// <c>SearchRequest</c> (<c>/points/search</c>): by a vector or by a stored point's id (which is then left out of
/// the results, as in Qdrant) or neither (Qdrant's query without <c>query</c>: the points in id order, score 1), with a filter, <c>limit</c>, <c>offset</c>, <c>params.hnsw_ef</c>,
/// <c>params.exact</c>, <c>score_threshold</c>, <c>with_payload</c> and <c>with_vector</c>.
/// </summary>
internal sealed record SearchSpec(
    float[]? Vector, string? PointId, MetadataFilter? Filter, int Limit, int Offset, int? Ef, bool Exact, float? ScoreThreshold, PointOutput Output)
{
    /// <summary>The JSON path of the query vector or point id, for errors about it.</summary>
    public string QueryPath { get; init; } = "query";

    private static readonly string[] QueryKinds =
        ["nearest", "recommend", "discover", "context", "order_by", "fusion", "rrf", "formula", "sample", "relevance_feedback"];

    /// <summary>A <c>QueryRequest</c>.</summary>
    public static SearchSpec FromQuery(JsonElement body, QdrantLimits limits, string path = "")
    {
        QdrantJson.RefuseUnknown(body, path, "query", "using", "filter", "params", "score_threshold", "limit", "offset", "with_payload", "with_vector");
        JsonElement usingName = QdrantJson.Optional(body, "using");
        if (usingName.ValueKind != JsonValueKind.Undefined && !(usingName.ValueKind == JsonValueKind.String && usingName.GetString()!.Length == 0))
        {
            throw new QdrantRequestException(QdrantJson.Join(path, "using"), "named vectors are not supported: the one vector of an OxiVec point is named \"\".");
        }

        string queryPath = QdrantJson.Join(path, "query");
        JsonElement query = QdrantJson.Optional(body, "query");
        if (query.ValueKind == JsonValueKind.Object)
        {
            string kind = query.EnumerateObject().Select(p => p.Name).FirstOrDefault(n => Array.IndexOf(QueryKinds, n) >= 0) ?? "";
            if (kind != "nearest")
            {
                throw new QdrantRequestException(queryPath, kind.Length > 0
                    ? $"OxiVec does not support the '{kind}' query (supported: a vector, a point id, or nearest)."
                    : "OxiVec does not support sparse vectors, documents or inference objects as queries (supported: a vector, a point id, or nearest).");
            }

            QdrantJson.RefuseUnknown(query, queryPath, "nearest");
            queryPath = QdrantJson.Join(queryPath, "nearest");
            query = query.GetProperty("nearest");
        }

        (float[]? vector, string? pointId) = query.ValueKind switch
        {
            JsonValueKind.Undefined => (null, null), // no query: the points in id order, as Qdrant lists them
            JsonValueKind.Number or JsonValueKind.String => (null, QdrantPointId.Parse(query, queryPath)),
            _ => (QdrantJson.Vector(query, queryPath), (string?)null),
        };
        return Common(body, limits, path, vector, pointId, limitRequired: false) with { QueryPath = queryPath };
    }

    /// <summary>A legacy <c>SearchRequest</c>: <c>vector</c> is an array, or <c>{"name": "", "vector": [...]}</c>; <c>limit</c> is required.</summary>
    public static SearchSpec FromSearch(JsonElement body, QdrantLimits limits, string path = "")
    {
        QdrantJson.RefuseUnknown(body, path, "vector", "filter", "params", "score_threshold", "limit", "offset", "with_payload", "with_vector");
        string vectorPath = QdrantJson.Join(path, "vector");
        JsonElement vector = QdrantJson.Optional(body, "vector");
        if (vector.ValueKind == JsonValueKind.Object)
        {
            QdrantJson.RefuseUnknown(vector, vectorPath, "name", "vector");
            JsonElement name = QdrantJson.Optional(vector, "name");
            if (!(name.ValueKind == JsonValueKind.String && name.GetString()!.Length == 0))
            {
                throw new QdrantRequestException(QdrantJson.Join(vectorPath, "name"), "named and sparse vectors are not supported: the one vector of an OxiVec point is named \"\".");
            }

            vectorPath = QdrantJson.Join(vectorPath, "vector");
            vector = QdrantJson.Optional(vector, "vector");
        }

        if (vector.ValueKind == JsonValueKind.Undefined)
        {
            throw new QdrantRequestException(vectorPath, "a vector is required.");
        }

        return Common(body, limits, path, QdrantJson.Vector(vector, vectorPath), null, limitRequired: true) with { QueryPath = vectorPath };
    }

    private static SearchSpec Common(JsonElement body, QdrantLimits limits, string path, float[]? vector, string? pointId, bool limitRequired)
    {
        if (limitRequired && QdrantJson.Optional(body, "limit").ValueKind == JsonValueKind.Undefined)
        {
            throw new QdrantRequestException(QdrantJson.Join(path, "limit"), "is required (a positive integer).");
        }

        int limit = QdrantJson.Int(body, "limit", 10, path, min: 1);
        int offset = QdrantJson.Int(body, "offset", 0, path);
        limits.CheckLimit(limit, offset, QdrantJson.Join(path, "limit"));
        string filterPath = QdrantJson.Join(path, "filter");
        MetadataFilter? filter = QdrantFilter.Translate(QdrantJson.Object(QdrantJson.Optional(body, "filter"), filterPath), limits.MaxFilterDepth, filterPath);

        string paramsPath = QdrantJson.Join(path, "params");
        JsonElement parameters = QdrantJson.Object(QdrantJson.Optional(body, "params"), paramsPath);
        QdrantJson.RefuseUnknown(parameters, paramsPath, "hnsw_ef", "exact", "indexed_only");
        int? ef = QdrantJson.Optional(parameters, "hnsw_ef").ValueKind == JsonValueKind.Undefined ? null : QdrantJson.Int(parameters, "hnsw_ef", 0, paramsPath, min: 1);
        if (ef > limits.MaxLimit)
        {
            throw new QdrantRequestException(QdrantJson.Join(paramsPath, "hnsw_ef"), $"hnsw_ef {ef} is more than the server's MaxLimit ({limits.MaxLimit}).");
        }

        bool exact = QdrantJson.Bool(parameters, "exact", false, paramsPath);
        _ = QdrantJson.Bool(parameters, "indexed_only", false, paramsPath); // every OxiVec point is indexed when its write returns
        float? threshold = QdrantJson.Float(body, "score_threshold", path);
        return new SearchSpec(vector, pointId, filter, limit, offset, ef, exact, threshold, PointOutput.Parse(body, payloadByDefault: false, path));
    }
}
