using System.Text.Json;

namespace OxiVec.Client;

/// <summary>
/// One write of a prepared transaction (<see cref="OxiVecClient.PrepareTransactionAsync"/>): upsert, insert or
/// update points of a collection, or delete points by id. The server validates every write when it prepares.
/// </summary>
public sealed class TransactionWrite
{
    private readonly string _kind;
    private readonly PointStruct[]? _points;
    private readonly PointId[]? _ids;

    private TransactionWrite(string kind, string collection, PointStruct[]? points, PointId[]? ids)
    {
        ArgumentException.ThrowIfNullOrEmpty(collection);
        _kind = kind;
        Collection = collection;
        _points = points;
        _ids = ids;
    }

    /// <summary>The collection written.</summary>
    public string Collection { get; }

    /// <summary>Inserts <paramref name="points"/> or replaces the points with their ids.</summary>
    public static TransactionWrite Upsert(string collection, params IEnumerable<PointStruct> points) => new("upsert", collection, Points(points), null);

    /// <summary>Inserts <paramref name="points"/>; their ids must be new.</summary>
    public static TransactionWrite Insert(string collection, params IEnumerable<PointStruct> points) => new("insert", collection, Points(points), null);

    /// <summary>Replaces the points with <paramref name="points"/>' ids; they must exist.</summary>
    public static TransactionWrite Update(string collection, params IEnumerable<PointStruct> points) => new("update", collection, Points(points), null);

    /// <summary>Deletes the points with <paramref name="ids"/>; they must exist.</summary>
    public static TransactionWrite Delete(string collection, params IEnumerable<PointId> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        PointId[] list = [.. ids];
        if (list.Length == 0)
        {
            throw new ArgumentException("A delete lists at least one point id.", nameof(ids));
        }

        return new("delete", collection, null, list);
    }

    internal void Write(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteStartObject(_kind);
        writer.WriteString("collection", Collection);
        if (_points is not null)
        {
            OxiVecClient.WritePoints(writer, _points);
        }
        else
        {
            writer.WriteStartArray("points");
            foreach (PointId id in _ids!)
            {
                id.Write(writer);
            }

            writer.WriteEndArray();
        }

        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    private static PointStruct[] Points(IEnumerable<PointStruct> points)
    {
        ArgumentNullException.ThrowIfNull(points);
        PointStruct[] list = [.. points];
        return list.Length > 0 ? list : throw new ArgumentException("A write lists at least one point.", nameof(points));
    }
}

/// <summary>Where a global transaction stands on the server.</summary>
public enum TransactionState
{
    /// <summary>Prepared and in doubt: durable, its points reserved, waiting for commit or rollback.</summary>
    Prepared,

    /// <summary>Committed.</summary>
    Committed,

    /// <summary>Rolled back (or presumed aborted).</summary>
    RolledBack,

    /// <summary>Never seen by the server.</summary>
    Unknown,
}

/// <summary>A global transaction as the server reports it; the details are set for a prepared one.</summary>
/// <param name="Gid">The global transaction id.</param>
/// <param name="State">Where it stands.</param>
/// <param name="PrepareLsn">The LSN of its prepare record.</param>
/// <param name="PreparedAt">When it was prepared (the server's clock).</param>
/// <param name="Age">How long it has been prepared, when the server answered.</param>
/// <param name="Coordinator">Its coordinator, as given to the prepare.</param>
/// <param name="OperationCount">How many point writes it holds.</param>
public sealed record TransactionStatus(
    string Gid, TransactionState State, long? PrepareLsn = null, DateTimeOffset? PreparedAt = null, TimeSpan? Age = null, string? Coordinator = null, int? OperationCount = null);
