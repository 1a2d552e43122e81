using System.Text.Json;
using OxiVec.Hosting.Qdrant;
using OxiVec.Hosting.Qdrant.Translation;
using OxiVec.Storage;
using OxiVec.Transactions;

namespace OxiVec.Hosting.Server;

/// <summary>
/// The body of <c>POST /oxivec/transactions/{gid}/prepare</c>:
/// <c>{"coordinator": "...", "conflict_wait_ms": 0, "operations": [{"upsert": {"collection": "c", "points": [{"id": 1,
/// "vector": [...], "payload": {...}}]}}, {"delete": {"collection": "c", "points": [1, "uuid"]}}]}</c>; <c>insert</c>
/// and <c>update</c> take points like <c>upsert</c>. Point ids and payloads are translated as the Qdrant API does.
/// </summary>
internal sealed record TransactionRequest(string? Coordinator, TimeSpan ConflictWait, IReadOnlyList<TransactionOperation> Operations)
{
    /// <summary>The longest conflict wait a request may ask for: 60 s (a request holds a connection while it waits).</summary>
    public const int MaxConflictWaitMs = 60_000;

    /// <exception cref="QdrantRequestException">The body is malformed; the message names the field's JSON path.</exception>
    public static TransactionRequest Parse(JsonElement body)
    {
        QdrantJson.RefuseUnknown(body, "body", "coordinator", "conflict_wait_ms", "operations");
        JsonElement coordinator = QdrantJson.Optional(body, "coordinator");
        if (coordinator.ValueKind is not (JsonValueKind.Undefined or JsonValueKind.String))
        {
            throw new QdrantRequestException("coordinator", "a string is expected.");
        }

        int waitMs = QdrantJson.Int(body, "conflict_wait_ms", 0, "conflict_wait_ms");
        if (waitMs > MaxConflictWaitMs)
        {
            throw new QdrantRequestException("conflict_wait_ms", $"at most {MaxConflictWaitMs} ms.");
        }

        JsonElement operations = QdrantJson.Optional(body, "operations");
        if (operations.ValueKind != JsonValueKind.Array || operations.GetArrayLength() == 0)
        {
            throw new QdrantRequestException("operations", "an array of at least one operation is expected.");
        }

        var parsed = new List<TransactionOperation>();
        int i = 0;
        foreach (JsonElement operation in operations.EnumerateArray())
        {
            ParseOperation(operation, $"operations[{i++}]", parsed);
        }

        return new TransactionRequest(coordinator.ValueKind == JsonValueKind.String ? coordinator.GetString() : null, TimeSpan.FromMilliseconds(waitMs), parsed);
    }

    private static void ParseOperation(JsonElement operation, string path, List<TransactionOperation> into)
    {
        if (operation.ValueKind != JsonValueKind.Object || operation.EnumerateObject().Count() != 1)
        {
            throw new QdrantRequestException(path, "an operation is an object with one key: upsert, insert, update or delete.");
        }

        JsonProperty only = operation.EnumerateObject().First();
        string at = $"{path}.{only.Name}";
        TransactionOperationKind kind = only.Name switch
        {
            "upsert" => TransactionOperationKind.Upsert,
            "insert" => TransactionOperationKind.Insert,
            "update" => TransactionOperationKind.Update,
            "delete" => TransactionOperationKind.Delete,
            _ => throw new QdrantRequestException(path, $"unknown operation '{only.Name}'; use upsert, insert, update or delete."),
        };
        JsonElement spec = QdrantJson.Object(only.Value, at);
        QdrantJson.RefuseUnknown(spec, at, "collection", "points");
        JsonElement collection = QdrantJson.Optional(spec, "collection");
        if (collection.ValueKind != JsonValueKind.String)
        {
            throw new QdrantRequestException($"{at}.collection", "a collection name (string) is expected.");
        }

        string name = collection.GetString()!;
        JsonElement points = QdrantJson.Optional(spec, "points");
        if (points.ValueKind != JsonValueKind.Array || points.GetArrayLength() == 0)
        {
            throw new QdrantRequestException($"{at}.points", "an array of at least one point is expected.");
        }

        int n = 0;
        foreach (JsonElement point in points.EnumerateArray())
        {
            string pointPath = $"{at}.points[{n++}]";
            if (kind == TransactionOperationKind.Delete)
            {
                into.Add(TransactionOperation.Delete(name, QdrantPointId.Parse(point, pointPath)));
                continue;
            }

            JsonElement p = QdrantJson.Object(point, pointPath);
            QdrantJson.RefuseUnknown(p, pointPath, "id", "vector", "payload");
            JsonElement id = QdrantJson.Optional(p, "id");
            if (id.ValueKind == JsonValueKind.Undefined)
            {
                throw new QdrantRequestException($"{pointPath}.id", "a point id is required.");
            }

            JsonElement vector = QdrantJson.Optional(p, "vector");
            if (vector.ValueKind == JsonValueKind.Undefined)
            {
                throw new QdrantRequestException($"{pointPath}.vector", "a vector is required.");
            }

            JsonElement payload = QdrantJson.Optional(p, "payload");
            Dictionary<string, MetadataValue>? metadata = payload.ValueKind == JsonValueKind.Undefined ? null : QdrantPayload.ToMetadata(payload, $"{pointPath}.payload");
            into.Add(new TransactionOperation(kind, name, QdrantPointId.Parse(id, $"{pointPath}.id"), QdrantJson.Vector(vector, $"{pointPath}.vector"), metadata));
        }
    }
}

/// <summary>A transaction's state as the endpoints answer it: <c>{"gid", "state"}</c>, plus the details of a prepared one.</summary>
internal sealed record TransactionResult(
    string Gid, string State, long? PrepareLsn = null, DateTimeOffset? PreparedAt = null, double? AgeSeconds = null, string? Coordinator = null, int? OperationCount = null)
{
    public static string StateName(PreparedTransactionState state) => state switch
    {
        PreparedTransactionState.Prepared => "prepared",
        PreparedTransactionState.Committed => "committed",
        PreparedTransactionState.RolledBack => "rolled_back",
        _ => "unknown",
    };

    public static TransactionResult From(PreparedTransaction p, TimeProvider time) =>
        new(p.Gid, StateName(p.State), p.PrepareLsn, p.PreparedAt, p.Age(time).TotalSeconds, p.CoordinatorId, p.OperationCount);
}
