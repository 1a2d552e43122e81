using System.Text.Json;

namespace OxiVec.Client;

public sealed partial class OxiVecClient
{
    /// <summary>A search (<c>POST /collections/{name}/points/query</c>): the best points first. Retried on transient failures.</summary>
    /// <exception cref="OxiVecClientException">400 for a vector of the wrong dimension or a limit over the server's <c>MaxLimit</c>; 404 for an unknown collection.</exception>
    public async Task<IReadOnlyList<ScoredPoint>> QueryAsync(string collection, QueryRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        JsonElement result = await SendAsync(HttpMethod.Post, $"collections/{Segment(collection)}/points/query", w => WriteQuery(w, request),
            retrySafe: true, cancellationToken).ConfigureAwait(false);
        return ReadScored(result.GetProperty("points"));
    }

    /// <summary>Several searches in one request (<c>POST /collections/{name}/points/query/batch</c>), answered in order. Retried on transient failures.</summary>
    public async Task<IReadOnlyList<IReadOnlyList<ScoredPoint>>> QueryBatchAsync(
        string collection, IEnumerable<QueryRequest> requests, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(requests);
        QueryRequest[] list = [.. requests];
        JsonElement result = await SendAsync(HttpMethod.Post, $"collections/{Segment(collection)}/points/query/batch", w =>
        {
            w.WriteStartObject();
            w.WriteStartArray("searches");
            foreach (QueryRequest request in list)
            {
                WriteQuery(w, request);
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }, retrySafe: true, cancellationToken).ConfigureAwait(false);
        return [.. result.EnumerateArray().Select(r => ReadScored(r.GetProperty("points")))];
    }

    private static void WriteQuery(Utf8JsonWriter writer, QueryRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Vector is not null && request.NearestTo is not null)
        {
            throw new ArgumentException("A query has a vector or a point to search near, not both.", nameof(request));
        }

        writer.WriteStartObject();
        if (request.Vector is { } vector)
        {
            writer.WriteStartArray("query");
            foreach (float f in vector.Span)
            {
                writer.WriteNumberValue(f);
            }

            writer.WriteEndArray();
        }
        else if (request.NearestTo is { } id)
        {
            writer.WritePropertyName("query");
            id.Write(writer);
        }

        writer.WriteNumber("limit", request.Limit);
        if (request.Offset != 0)
        {
            writer.WriteNumber("offset", request.Offset);
        }

        WriteFilter(writer, request.Filter);
        if (request.HnswEf is not null || request.Exact)
        {
            writer.WriteStartObject("params");
            if (request.HnswEf is { } ef)
            {
                writer.WriteNumber("hnsw_ef", ef);
            }

            if (request.Exact)
            {
                writer.WriteBoolean("exact", true);
            }

            writer.WriteEndObject();
        }

        if (request.ScoreThreshold is { } threshold)
        {
            writer.WriteNumber("score_threshold", threshold);
        }

        writer.WriteBoolean("with_payload", request.WithPayload);
        writer.WriteBoolean("with_vector", request.WithVector);
        writer.WriteEndObject();
    }

    private static ScoredPoint[] ReadScored(JsonElement points) =>
        [.. points.EnumerateArray().Select(p => new ScoredPoint(PointId.Read(p.GetProperty("id")), p.GetProperty("score").GetSingle(), Payload(p), Vector(p)))];
}
