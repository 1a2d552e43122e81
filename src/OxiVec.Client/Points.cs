using System.Text.Json.Nodes;

namespace OxiVec.Client;

/// <summary>A point to upsert: its id, vector and payload (a JSON object; null is an empty payload).</summary>
public sealed record PointStruct(PointId Id, ReadOnlyMemory<float> Vector, JsonObject? Payload = null);

/// <summary>A point as a read returns it; <see cref="Payload"/> and <see cref="Vector"/> are null when not asked for.</summary>
public sealed record RetrievedPoint(PointId Id, JsonObject? Payload, float[]? Vector);

/// <summary>A search hit: the point and its score (the cosine similarity, the dot product or the Euclidean distance).</summary>
public sealed record ScoredPoint(PointId Id, float Score, JsonObject? Payload, float[]? Vector);

/// <summary>One page of a scroll, and the id to start the next page from (null after the last page).</summary>
public sealed record ScrollResult(IReadOnlyList<RetrievedPoint> Points, PointId? NextPageOffset);

/// <summary>The answer to a write: its <paramref name="OperationId"/> is the LSN of its commit in the server's WAL (0 when it changed nothing).</summary>
public sealed record UpdateResult(long OperationId, string Status);

/// <summary>Which points a delete or payload operation applies to: listed ids, or the points a filter matches.</summary>
public sealed class PointsSelector
{
    private PointsSelector(IReadOnlyList<PointId>? ids, Filter? filter)
    {
        Ids = ids;
        Filter = filter;
    }

    /// <summary>The listed ids (null when a filter selects).</summary>
    public IReadOnlyList<PointId>? Ids { get; }

    /// <summary>The filter (null when ids select).</summary>
    public Filter? Filter { get; }

    /// <summary>The points with these ids.</summary>
    public static PointsSelector ByIds(params IEnumerable<PointId> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        return new PointsSelector([.. ids], null);
    }

    /// <summary>The points <paramref name="filter"/> matches (when the operation runs).</summary>
    public static PointsSelector ByFilter(Filter filter)
    {
        ArgumentNullException.ThrowIfNull(filter);
        return new PointsSelector(null, filter);
    }

    /// <summary>The ids of a list.</summary>
    public static implicit operator PointsSelector(PointId[] ids) => ByIds(ids);

    /// <summary>The points a filter matches.</summary>
    public static implicit operator PointsSelector(Filter filter) => ByFilter(filter);

    internal void Write(System.Text.Json.Utf8JsonWriter writer)
    {
        if (Filter is not null)
        {
            writer.WritePropertyName("filter");
            Filter.Write(writer);
            return;
        }

        writer.WriteStartArray("points");
        foreach (PointId id in Ids!)
        {
            id.Write(writer);
        }

        writer.WriteEndArray();
    }
}
