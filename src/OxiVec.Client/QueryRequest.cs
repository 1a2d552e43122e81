namespace OxiVec.Client;

/// <summary>
/// A search (<c>POST /collections/{name}/points/query</c>): the nearest points to <see cref="Vector"/>, or to the
/// vector of the point <see cref="NearestTo"/> (that point itself left out), or with neither, the matching points in
/// id order (score 1).
/// </summary>
public sealed class QueryRequest
{
    /// <summary>A query without a vector: the points <see cref="Filter"/> matches, in id order.</summary>
    public QueryRequest()
    {
    }

    /// <summary>The nearest points to <paramref name="vector"/>.</summary>
    public QueryRequest(ReadOnlyMemory<float> vector) => Vector = vector;

    /// <summary>The query vector (null: none).</summary>
    public ReadOnlyMemory<float>? Vector { get; init; }

    /// <summary>Search near this point's vector instead (the point is left out of the results).</summary>
    public PointId? NearestTo { get; init; }

    /// <summary>How many points to return. The default is 10.</summary>
    public int Limit { get; init; } = 10;

    /// <summary>How many of the best points to skip. The default is 0.</summary>
    public int Offset { get; init; }

    /// <summary>Only points this filter matches (applied inside the index search).</summary>
    public Filter? Filter { get; init; }

    /// <summary>The HNSW search's candidate list size (null: the collection's).</summary>
    public int? HnswEf { get; init; }

    /// <summary>True: an exact search, not the HNSW graph.</summary>
    public bool Exact { get; init; }

    /// <summary>Keep only scores at least this (Cosine, Dot) or at most this (Euclid).</summary>
    public float? ScoreThreshold { get; init; }

    /// <summary>Return the payloads. The default is false (as the server's).</summary>
    public bool WithPayload { get; init; }

    /// <summary>Return the vectors. The default is false.</summary>
    public bool WithVector { get; init; }
}

/// <summary>A scroll (<c>POST /collections/{name}/points/scroll</c>): the points a filter matches, in id order, a page at a time.</summary>
public sealed class ScrollRequest
{
    /// <summary>Only points this filter matches (null: all).</summary>
    public Filter? Filter { get; init; }

    /// <summary>The page size. The default is 10.</summary>
    public int Limit { get; init; } = 10;

    /// <summary>The id to start from (inclusive): the previous page's <see cref="ScrollResult.NextPageOffset"/>.</summary>
    public PointId? Offset { get; init; }

    /// <summary>Return the payloads. The default is true (as the server's).</summary>
    public bool WithPayload { get; init; } = true;

    /// <summary>Return the vectors. The default is false.</summary>
    public bool WithVector { get; init; }
}
