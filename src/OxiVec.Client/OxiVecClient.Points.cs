using System.Text.Json;
using System.Text.Json.Nodes;

namespace OxiVec.Client;

public sealed partial class OxiVecClient
{
    /// <summary>
    /// Inserts or replaces points (<c>PUT /collections/{name}/points</c>), as one transaction. Retried on transient
    /// failures: every point has its id, so a second attempt writes the same points again.
    /// </summary>
    /// <exception cref="OxiVecClientException">400 naming the point and field for a wrong dimension (nothing is written); 404 for an unknown collection.</exception>
    public Task<UpdateResult> UpsertAsync(string collection, IEnumerable<PointStruct> points, bool wait = true, CancellationToken cancellationToken = default) =>
        UpdateAsync(HttpMethod.Put, collection, "points", UpdateOperation.Upsert(points), wait, cancellationToken);

    /// <summary>One point with its payload and vector (<c>GET /collections/{name}/points/{id}</c>). Retried on transient failures.</summary>
    /// <exception cref="OxiVecClientException">404 for an unknown collection or point.</exception>
    public async Task<RetrievedPoint> GetPointAsync(string collection, PointId id, CancellationToken cancellationToken = default)
    {
        JsonElement result = await SendAsync(HttpMethod.Get, $"collections/{Segment(collection)}/points/{id}", null, retrySafe: true, cancellationToken).ConfigureAwait(false);
        return ReadPoint(result);
    }

    /// <summary>The points with these ids (<c>POST /collections/{name}/points</c>); missing ids are skipped. Retried on transient failures.</summary>
    public async Task<IReadOnlyList<RetrievedPoint>> RetrieveAsync(
        string collection, IEnumerable<PointId> ids, bool withPayload = true, bool withVector = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ids);
        PointId[] list = [.. ids];
        JsonElement result = await SendAsync(HttpMethod.Post, $"collections/{Segment(collection)}/points", w =>
        {
            w.WriteStartObject();
            w.WriteStartArray("ids");
            foreach (PointId id in list)
            {
                id.Write(w);
            }

            w.WriteEndArray();
            w.WriteBoolean("with_payload", withPayload);
            w.WriteBoolean("with_vector", withVector);
            w.WriteEndObject();
        }, retrySafe: true, cancellationToken).ConfigureAwait(false);
        return [.. result.EnumerateArray().Select(ReadPoint)];
    }

    /// <summary>
    /// Deletes the selected points (<c>POST /collections/{name}/points/delete</c>); absent ids are ignored. Retried on
    /// transient failures when ids select; never when a filter does (a second attempt could match points written in between).
    /// </summary>
    public Task<UpdateResult> DeleteAsync(string collection, PointsSelector selector, bool wait = true, CancellationToken cancellationToken = default) =>
        UpdateAsync(HttpMethod.Post, collection, "points/delete", UpdateOperation.Delete(selector), wait, cancellationToken);

    /// <summary>
    /// A page of the points <see cref="ScrollRequest.Filter"/> matches, in id order (<c>POST /collections/{name}/points/scroll</c>);
    /// pass <see cref="ScrollResult.NextPageOffset"/> as the next request's offset. Retried on transient failures.
    /// </summary>
    public async Task<ScrollResult> ScrollAsync(string collection, ScrollRequest? request = null, CancellationToken cancellationToken = default)
    {
        request ??= new ScrollRequest();
        JsonElement result = await SendAsync(HttpMethod.Post, $"collections/{Segment(collection)}/points/scroll", w =>
        {
            w.WriteStartObject();
            WriteFilter(w, request.Filter);
            w.WriteNumber("limit", request.Limit);
            if (request.Offset is { } offset)
            {
                w.WritePropertyName("offset");
                offset.Write(w);
            }

            w.WriteBoolean("with_payload", request.WithPayload);
            w.WriteBoolean("with_vector", request.WithVector);
            w.WriteEndObject();
        }, retrySafe: true, cancellationToken).ConfigureAwait(false);
        JsonElement next = result.GetProperty("next_page_offset");
        return new ScrollResult(
            [.. result.GetProperty("points").EnumerateArray().Select(ReadPoint)],
            next.ValueKind == JsonValueKind.Null ? null : PointId.Read(next));
    }

    /// <summary>How many points <paramref name="filter"/> matches (all when null), exactly (<c>POST /collections/{name}/points/count</c>). Retried on transient failures.</summary>
    public async Task<long> CountAsync(string collection, Filter? filter = null, CancellationToken cancellationToken = default)
    {
        JsonElement result = await SendAsync(HttpMethod.Post, $"collections/{Segment(collection)}/points/count", w =>
        {
            w.WriteStartObject();
            WriteFilter(w, filter);
            w.WriteBoolean("exact", true);
            w.WriteEndObject();
        }, retrySafe: true, cancellationToken).ConfigureAwait(false);
        return result.GetProperty("count").GetInt64();
    }

    /// <summary>
    /// Sets the top-level keys of <paramref name="payload"/> on the selected points, keeping their other keys
    /// (<c>POST /collections/{name}/points/payload</c>). Retried on transient failures when ids select.
    /// </summary>
    /// <exception cref="OxiVecClientException">404 when a listed point does not exist (nothing is changed).</exception>
    public Task<UpdateResult> SetPayloadAsync(string collection, JsonObject payload, PointsSelector selector, bool wait = true, CancellationToken cancellationToken = default) =>
        UpdateAsync(HttpMethod.Post, collection, "points/payload", UpdateOperation.SetPayload(payload, selector), wait, cancellationToken);

    /// <summary>Replaces the selected points' payloads (<c>PUT /collections/{name}/points/payload</c>). Retried on transient failures when ids select.</summary>
    public Task<UpdateResult> OverwritePayloadAsync(string collection, JsonObject payload, PointsSelector selector, bool wait = true, CancellationToken cancellationToken = default) =>
        UpdateAsync(HttpMethod.Put, collection, "points/payload", UpdateOperation.OverwritePayload(payload, selector), wait, cancellationToken);

    /// <summary>Removes top-level <paramref name="keys"/> from the selected points' payloads (<c>POST .../points/payload/delete</c>). Retried on transient failures when ids select.</summary>
    public Task<UpdateResult> DeletePayloadAsync(string collection, IEnumerable<string> keys, PointsSelector selector, bool wait = true, CancellationToken cancellationToken = default) =>
        UpdateAsync(HttpMethod.Post, collection, "points/payload/delete", UpdateOperation.DeletePayload(keys, selector), wait, cancellationToken);

    /// <summary>Empties the selected points' payloads (<c>POST .../points/payload/clear</c>). Retried on transient failures when ids select.</summary>
    public Task<UpdateResult> ClearPayloadAsync(string collection, PointsSelector selector, bool wait = true, CancellationToken cancellationToken = default) =>
        UpdateAsync(HttpMethod.Post, collection, "points/payload/clear", UpdateOperation.ClearPayload(selector), wait, cancellationToken);

    /// <summary>
    /// Applies <paramref name="operations"/> in order as one transaction (<c>POST /collections/{name}/points/batch</c>):
    /// all or nothing. Retried on transient failures only when every operation is an upsert or a delete of listed ids.
    /// </summary>
    public async Task<IReadOnlyList<UpdateResult>> BatchUpdateAsync(
        string collection, IEnumerable<UpdateOperation> operations, bool wait = true, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(operations);
        UpdateOperation[] list = [.. operations];
        JsonElement result = await SendAsync(HttpMethod.Post, $"collections/{Segment(collection)}/points/batch{Wait(wait)}", w =>
        {
            w.WriteStartObject();
            w.WriteStartArray("operations");
            foreach (UpdateOperation operation in list)
            {
                operation.Write(w);
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }, retrySafe: list.All(o => o.IsRetrySafe), cancellationToken).ConfigureAwait(false);
        return [.. result.EnumerateArray().Select(ReadUpdate)];
    }

    private async Task<UpdateResult> UpdateAsync(HttpMethod method, string collection, string path, UpdateOperation operation, bool wait, CancellationToken cancellationToken)
    {
        JsonElement result = await SendAsync(method, $"collections/{Segment(collection)}/{path}{Wait(wait)}", operation.WriteBody,
            operation.IsRetrySafeAlone, cancellationToken).ConfigureAwait(false);
        return ReadUpdate(result);
    }

    private static UpdateResult ReadUpdate(JsonElement result) =>
        new(result.GetProperty("operation_id").GetInt64(), result.GetProperty("status").GetString()!);

    private static void WriteFilter(Utf8JsonWriter writer, Filter? filter)
    {
        if (filter is not null)
        {
            writer.WritePropertyName("filter");
            filter.Write(writer);
        }
    }

    internal static RetrievedPoint ReadPoint(JsonElement point) =>
        new(PointId.Read(point.GetProperty("id")), Payload(point), Vector(point));

    internal static JsonObject? Payload(JsonElement point) =>
        point.TryGetProperty("payload", out JsonElement payload) && payload.ValueKind == JsonValueKind.Object ? JsonObject.Create(payload) : null;

    internal static float[]? Vector(JsonElement point)
    {
        if (!point.TryGetProperty("vector", out JsonElement vector) || vector.ValueKind != JsonValueKind.Array)
        {
            return null;
        }

        var values = new float[vector.GetArrayLength()];
        int i = 0;
        foreach (JsonElement value in vector.EnumerateArray())
        {
            values[i++] = value.GetSingle();
        }

        return values;
    }
}
