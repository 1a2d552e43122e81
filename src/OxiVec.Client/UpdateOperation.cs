using System.Text.Json;
using System.Text.Json.Nodes;

namespace OxiVec.Client;

/// <summary>
/// One operation of a batch update (<see cref="OxiVecClient.BatchUpdateAsync"/>): the server applies a batch in
/// order, as one transaction.
/// </summary>
public abstract class UpdateOperation
{
    private protected UpdateOperation()
    {
    }

    /// <summary>
    /// True when sending the operation twice leaves the same state as sending it once, whatever its first attempt
    /// did: upserts and deletes of listed ids. A batch of only such operations is retried (see docs/client.md).
    /// </summary>
    internal abstract bool IsRetrySafe { get; }

    /// <summary>
    /// True when the operation sent alone (not in a batch) may be retried: <see cref="IsRetrySafe"/> ones, and payload
    /// operations on listed ids (applying one twice leaves what applying it once does; in a batch, a later operation
    /// such as a delete could make the second application fail where the first succeeded).
    /// </summary>
    internal abstract bool IsRetrySafeAlone { get; }

    /// <summary>Upserts <paramref name="points"/>.</summary>
    public static UpdateOperation Upsert(params IEnumerable<PointStruct> points)
    {
        ArgumentNullException.ThrowIfNull(points);
        PointStruct[] list = [.. points];
        return new Op("upsert", true, true, w => OxiVecClient.WritePoints(w, list));
    }

    /// <summary>Deletes the selected points.</summary>
    public static UpdateOperation Delete(PointsSelector selector)
    {
        ArgumentNullException.ThrowIfNull(selector);
        return new Op("delete", selector.Ids is not null, selector.Ids is not null, selector.Write);
    }

    /// <summary>Sets the top-level keys of <paramref name="payload"/> on the selected points, keeping their other keys.</summary>
    public static UpdateOperation SetPayload(JsonObject payload, PointsSelector selector) => Payload("set_payload", payload, selector);

    /// <summary>Replaces the payload of the selected points with <paramref name="payload"/>.</summary>
    public static UpdateOperation OverwritePayload(JsonObject payload, PointsSelector selector) => Payload("overwrite_payload", payload, selector);

    /// <summary>Removes the top-level <paramref name="keys"/> from the selected points' payloads.</summary>
    public static UpdateOperation DeletePayload(IEnumerable<string> keys, PointsSelector selector)
    {
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(selector);
        string[] list = [.. keys];
        return new Op("delete_payload", false, selector.Ids is not null, w =>
        {
            selector.Write(w);
            w.WriteStartArray("keys");
            foreach (string key in list)
            {
                w.WriteStringValue(key);
            }

            w.WriteEndArray();
        });
    }

    /// <summary>Empties the selected points' payloads.</summary>
    public static UpdateOperation ClearPayload(PointsSelector selector)
    {
        ArgumentNullException.ThrowIfNull(selector);
        return new Op("clear_payload", false, selector.Ids is not null, selector.Write);
    }

    /// <summary>Replaces the vectors of existing points, keeping their payloads (an unknown id fails the whole batch with 404).</summary>
    public static UpdateOperation UpdateVectors(params IEnumerable<(PointId Id, ReadOnlyMemory<float> Vector)> points)
    {
        ArgumentNullException.ThrowIfNull(points);
        (PointId Id, ReadOnlyMemory<float> Vector)[] list = [.. points];
        return new Op("update_vectors", false, true, w =>
        {
            w.WriteStartArray("points");
            foreach ((PointId id, ReadOnlyMemory<float> vector) in list)
            {
                w.WriteStartObject();
                w.WritePropertyName("id");
                id.Write(w);
                OxiVecClient.WriteVector(w, vector.Span);
                w.WriteEndObject();
            }

            w.WriteEndArray();
        });
    }

    /// <summary>Writes <c>{"name": {...}}</c>, the operation in a batch.</summary>
    internal abstract void Write(Utf8JsonWriter writer);

    /// <summary>Writes <c>{...}</c>, the body of the operation's own endpoint.</summary>
    internal abstract void WriteBody(Utf8JsonWriter writer);

    private static Op Payload(string name, JsonObject payload, PointsSelector selector)
    {
        ArgumentNullException.ThrowIfNull(payload);
        ArgumentNullException.ThrowIfNull(selector);
        string json = payload.ToJsonString();
        return new Op(name, false, selector.Ids is not null, w =>
        {
            selector.Write(w);
            w.WritePropertyName("payload");
            w.WriteRawValue(json, skipInputValidation: true);
        });
    }

    private sealed class Op(string name, bool retrySafe, bool retrySafeAlone, Action<Utf8JsonWriter> body) : UpdateOperation
    {
        internal override bool IsRetrySafe => retrySafe;

        internal override bool IsRetrySafeAlone => retrySafeAlone;

        internal override void Write(Utf8JsonWriter writer)
        {
            writer.WriteStartObject();
            writer.WritePropertyName(name);
            WriteBody(writer);
            writer.WriteEndObject();
        }

        internal override void WriteBody(Utf8JsonWriter writer)
        {
            writer.WriteStartObject();
            body(writer);
            writer.WriteEndObject();
        }
    }
}
