using System.Text.Json;
using OxiVec.Hosting.Qdrant.Translation;
using OxiVec.Storage;

namespace OxiVec.Hosting.Qdrant;

/// <summary>
/// Reads Qdrant's update bodies (<c>PointInsertOperations</c>, <c>PointsSelector</c>, <c>SetPayload</c>,
/// <c>DeletePayload</c>, <c>UpdateVectors</c>, <c>UpdateOperations</c>) into <see cref="UpdateOperation"/>s, checking
/// ids, vector dimensions and the request limits; every error names its JSON path.
/// </summary>
internal sealed class UpdateParser(QdrantLimits limits, int dimension)
{
    private int _points; // points named so far in this request (MaxPointsPerRequest counts them all)

    /// <summary><c>{"points": [{id, vector, payload}]}</c> or <c>{"batch": {ids, vectors, payloads}}</c>.</summary>
    public UpsertPoints Upsert(JsonElement body, string path)
    {
        QdrantJson.RefuseUnknown(body, path, "points", "batch");
        bool hasPoints = QdrantJson.Optional(body, "points").ValueKind != JsonValueKind.Undefined;
        bool hasBatch = QdrantJson.Optional(body, "batch").ValueKind != JsonValueKind.Undefined;
        if (hasPoints == hasBatch)
        {
            throw new QdrantRequestException(path.Length == 0 ? "body" : path, "either points: [{id, vector, payload}] or batch: {ids, vectors, payloads} is required.");
        }

        return hasPoints ? PointList(body, path) : Batch(QdrantJson.Optional(body, "batch"), QdrantJson.Join(path, "batch"));
    }

    /// <summary><c>{"points": [ids]}</c> or <c>{"filter": {...}}</c>.</summary>
    public PointSelector Selector(JsonElement body, string path, params string[] otherFields)
    {
        QdrantJson.RefuseUnknown(body, path, ["points", "filter", .. otherFields]);
        JsonElement points = QdrantJson.Optional(body, "points");
        bool hasFilter = body.ValueKind == JsonValueKind.Object && body.TryGetProperty("filter", out JsonElement filter) && filter.ValueKind != JsonValueKind.Null;
        if ((points.ValueKind != JsonValueKind.Undefined) == hasFilter)
        {
            throw new QdrantRequestException(path.Length == 0 ? "body" : path, "either points: [ids] or filter: {...} is required.");
        }

        if (hasFilter)
        {
            string filterPath = QdrantJson.Join(path, "filter");
            return new PointSelector(null, QdrantFilter.Translate(QdrantJson.Object(body.GetProperty("filter"), filterPath), limits.MaxFilterDepth, filterPath), filterPath);
        }

        string pointsPath = QdrantJson.Join(path, "points");
        return new PointSelector(Ids(QdrantJson.Array(body, "points", path), pointsPath), null, pointsPath);
    }

    /// <summary><c>delete</c>'s body.</summary>
    public DeletePoints Delete(JsonElement body, string path) => new(Selector(body, path), path);

    /// <summary><c>set_payload</c>'s or <c>overwrite_payload</c>'s body.</summary>
    public SetPayload SetPayload(JsonElement body, bool overwrite, string path)
    {
        if (QdrantJson.Optional(body, "key").ValueKind != JsonValueKind.Undefined)
        {
            throw new QdrantRequestException(QdrantJson.Join(path, "key"), "OxiVec does not support setting payload under a nested key; set top-level keys.");
        }

        PointSelector selector = Selector(body, path, "payload");
        string payloadPath = QdrantJson.Join(path, "payload");
        JsonElement payload = QdrantJson.Optional(body, "payload");
        if (payload.ValueKind != JsonValueKind.Object)
        {
            throw new QdrantRequestException(payloadPath, "payload: {...} is required (an object).");
        }

        return new SetPayload(QdrantPayload.ToMetadata(payload, payloadPath), overwrite, selector, path);
    }

    /// <summary><c>delete_payload</c>'s body.</summary>
    public DeletePayloadKeys DeletePayload(JsonElement body, string path)
    {
        PointSelector selector = Selector(body, path, "keys");
        JsonElement keys = QdrantJson.Array(body, "keys", path);
        var list = new List<string>(keys.GetArrayLength());
        int i = 0;
        foreach (JsonElement key in keys.EnumerateArray())
        {
            list.Add(PayloadKey(key, $"{QdrantJson.Join(path, "keys")}[{i++}]"));
        }

        return new DeletePayloadKeys(list, selector, path);
    }

    /// <summary><c>clear_payload</c>'s body.</summary>
    public ClearPayload ClearPayload(JsonElement body, string path) => new(Selector(body, path), path);

    /// <summary><c>update_vectors</c>'s body: <c>{"points": [{id, vector}]}</c>.</summary>
    public UpdateVectors UpdateVectors(JsonElement body, string path)
    {
        QdrantJson.RefuseUnknown(body, path, "points");
        JsonElement points = QdrantJson.Array(body, "points", path);
        string pointsPath = QdrantJson.Join(path, "points");
        Count(points.GetArrayLength(), pointsPath);
        var list = new List<PointWrite>(points.GetArrayLength());
        int i = 0;
        foreach (JsonElement point in points.EnumerateArray())
        {
            string pointPath = $"{pointsPath}[{i++}]";
            QdrantJson.RefuseUnknown(QdrantJson.Object(point, pointPath), pointPath, "id", "vector");
            string id = QdrantPointId.Parse(QdrantJson.Optional(point, "id"), $"{pointPath}.id");
            list.Add(new PointWrite(id, Vector(QdrantJson.Optional(point, "vector"), $"{pointPath}.vector"), [], pointPath));
        }

        return new UpdateVectors(list, path);
    }

    /// <summary><c>{"operations": [{"upsert": ...}, {"delete": ...}, ...]}</c>.</summary>
    public List<UpdateOperation> Batch(JsonElement body)
    {
        QdrantJson.RefuseUnknown(body, "", "operations");
        JsonElement operations = QdrantJson.Array(body, "operations", "");
        var list = new List<UpdateOperation>(operations.GetArrayLength());
        int i = 0;
        foreach (JsonElement operation in operations.EnumerateArray())
        {
            string path = $"operations[{i++}]";
            if (operation.ValueKind != JsonValueKind.Object || operation.EnumerateObject().Count() != 1)
            {
                throw new QdrantRequestException(path, "an operation is an object with one of upsert, delete, set_payload, overwrite_payload, delete_payload, clear_payload, update_vectors.");
            }

            JsonProperty only = operation.EnumerateObject().First();
            string opPath = $"{path}.{only.Name}";
            JsonElement value = QdrantJson.Object(only.Value, opPath);
            list.Add(only.Name switch
            {
                "upsert" => Upsert(value, opPath),
                "delete" => Delete(value, opPath),
                "set_payload" => SetPayload(value, overwrite: false, opPath),
                "overwrite_payload" => SetPayload(value, overwrite: true, opPath),
                "delete_payload" => DeletePayload(value, opPath),
                "clear_payload" => ClearPayload(value, opPath),
                "update_vectors" => UpdateVectors(value, opPath),
                "delete_vectors" => throw new QdrantRequestException(opPath, "OxiVec does not support delete_vectors: every point has exactly one vector."),
                _ => throw new QdrantRequestException(opPath, $"OxiVec does not support the operation '{only.Name}' (supported: upsert, delete, set_payload, overwrite_payload, delete_payload, clear_payload, update_vectors)."),
            });
        }

        return list;
    }

    /// <summary>A list of point ids.</summary>
    public List<string> Ids(JsonElement ids, string path)
    {
        Count(ids.GetArrayLength(), path);
        var list = new List<string>(ids.GetArrayLength());
        int i = 0;
        foreach (JsonElement id in ids.EnumerateArray())
        {
            list.Add(QdrantPointId.Parse(id, $"{path}[{i++}]"));
        }

        return list;
    }

    /// <summary>A top-level payload key: nested paths (<c>a.b</c>, <c>a[]</c>) are refused.</summary>
    public static string PayloadKey(JsonElement key, string path)
    {
        if (key.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(key.GetString()))
        {
            throw new QdrantRequestException(path, "a payload key is a non-empty string.");
        }

        string text = key.GetString()!;
        return text.AsSpan().IndexOfAny('.', '[', '"') >= 0
            ? throw new QdrantRequestException(path, $"OxiVec does not support nested payload paths ('{text}'); name a top-level key.")
            : text;
    }

    private UpsertPoints PointList(JsonElement body, string path)
    {
        JsonElement points = QdrantJson.Array(body, "points", path);
        string pointsPath = QdrantJson.Join(path, "points");
        Count(points.GetArrayLength(), pointsPath);
        var list = new List<PointWrite>(points.GetArrayLength());
        int i = 0;
        foreach (JsonElement point in points.EnumerateArray())
        {
            string pointPath = $"{pointsPath}[{i++}]";
            QdrantJson.RefuseUnknown(QdrantJson.Object(point, pointPath), pointPath, "id", "vector", "payload");
            string id = QdrantPointId.Parse(QdrantJson.Optional(point, "id"), $"{pointPath}.id");
            float[] vector = Vector(QdrantJson.Optional(point, "vector"), $"{pointPath}.vector");
            Dictionary<string, MetadataValue> payload = QdrantPayload.ToMetadata(QdrantJson.Optional(point, "payload"), $"{pointPath}.payload");
            list.Add(new PointWrite(id, vector, payload, pointPath));
        }

        return new UpsertPoints(list, path);
    }

    private UpsertPoints Batch(JsonElement batch, string path)
    {
        QdrantJson.RefuseUnknown(QdrantJson.Object(batch, path), path, "ids", "vectors", "payloads");
        JsonElement ids = QdrantJson.Array(batch, "ids", path);
        JsonElement vectors = QdrantJson.Optional(batch, "vectors");
        string vectorsPath = QdrantJson.Join(path, "vectors");
        if (vectors.ValueKind == JsonValueKind.Object)
        {
            // {"": [[...], ...]}: Qdrant's named form with the one name "" is the unnamed vector.
            if (!(vectors.EnumerateObject().Count() == 1 && vectors.TryGetProperty("", out JsonElement unnamed)))
            {
                throw new QdrantRequestException(vectorsPath, "named vectors are not supported: OxiVec collections have one unnamed vector (vectors: [[...], ...]).");
            }

            vectors = unnamed;
            vectorsPath += "[\"\"]";
        }

        if (vectors.ValueKind != JsonValueKind.Array)
        {
            throw new QdrantRequestException(vectorsPath, "an array of vectors is required.");
        }

        JsonElement payloads = QdrantJson.Optional(batch, "payloads");
        if (payloads.ValueKind is not (JsonValueKind.Undefined or JsonValueKind.Array))
        {
            throw new QdrantRequestException(QdrantJson.Join(path, "payloads"), "payloads is an array of objects (or null).");
        }

        int count = ids.GetArrayLength();
        if (vectors.GetArrayLength() != count || (payloads.ValueKind == JsonValueKind.Array && payloads.GetArrayLength() != count))
        {
            throw new QdrantRequestException(path, $"ids, vectors and payloads must have the same length; got {count} ids, {vectors.GetArrayLength()} vectors{(payloads.ValueKind == JsonValueKind.Array ? $", {payloads.GetArrayLength()} payloads" : "")}.");
        }

        List<string> idList = Ids(ids, QdrantJson.Join(path, "ids"));
        var list = new List<PointWrite>(count);
        using JsonElement.ArrayEnumerator vectorItems = vectors.EnumerateArray(); // indexing an array of arrays is linear
        using JsonElement.ArrayEnumerator payloadItems = payloads.ValueKind == JsonValueKind.Array ? payloads.EnumerateArray() : default;
        for (int i = 0; i < count; i++)
        {
            vectorItems.MoveNext();
            float[] vector = Vector(vectorItems.Current, $"{vectorsPath}[{i}]");
            Dictionary<string, MetadataValue> payload = [];
            if (payloads.ValueKind == JsonValueKind.Array)
            {
                payloadItems.MoveNext();
                payload = QdrantPayload.ToMetadata(payloadItems.Current, $"{path}.payloads[{i}]");
            }

            list.Add(new PointWrite(idList[i], vector, payload, $"{path}.ids[{i}]"));
        }

        return new UpsertPoints(list, path);
    }

    private float[] Vector(JsonElement element, string path)
    {
        if (element.ValueKind == JsonValueKind.Undefined)
        {
            throw new QdrantRequestException(path, "a vector is required.");
        }

        float[] vector = QdrantJson.Vector(element, path);
        return vector.Length == dimension
            ? vector
            : throw new QdrantRequestException(path, $"Vector dimension error: expected dim: {dimension}, got {vector.Length}.");
    }

    private void Count(int count, string path)
    {
        _points += count;
        limits.CheckPoints(_points, path);
    }
}
