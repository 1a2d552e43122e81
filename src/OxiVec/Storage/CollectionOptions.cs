using OxiVec.Indexing;

namespace OxiVec.Storage;

/// <summary>The index a collection searches with.</summary>
public enum IndexKind : byte
{
    /// <summary>Exact brute-force search.</summary>
    Flat = 1,

    /// <summary>Approximate search over an HNSW graph.</summary>
    Hnsw = 2,
}

/// <summary>The shape of a collection, fixed when it is created.</summary>
public sealed record CollectionOptions
{
    private readonly int _dimension;
    private readonly DistanceMetric _metric = DistanceMetric.Cosine;
    private readonly IndexKind _index = IndexKind.Hnsw;
    private readonly HnswParameters _hnsw = new();

    /// <summary>Creates options for vectors of <paramref name="dimension"/> floats.</summary>
    /// <param name="dimension">From 1 to 65,536.</param>
    public CollectionOptions(int dimension) => Dimension = dimension;

    /// <summary>The number of floats in every vector (1 to 65,536).</summary>
    public int Dimension
    {
        get => _dimension;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1, nameof(Dimension));
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, VectorMath.MaxDimension, nameof(Dimension));
            _dimension = value;
        }
    }

    /// <summary>How distance is measured. The default is cosine.</summary>
    public DistanceMetric Metric
    {
        get => _metric;
        init => _metric = Enum.IsDefined(value) ? value : throw new ArgumentOutOfRangeException(nameof(Metric), value, "Unknown distance metric.");
    }

    /// <summary>The index. The default is HNSW.</summary>
    public IndexKind Index
    {
        get => _index;
        init => _index = Enum.IsDefined(value) ? value : throw new ArgumentOutOfRangeException(nameof(Index), value, "Unknown index kind.");
    }

    /// <summary>HNSW parameters (used when <see cref="Index"/> is HNSW). The defaults are M 16, efConstruction 200, efSearch 64.</summary>
    public HnswParameters Hnsw
    {
        get => _hnsw;
        init => _hnsw = value ?? throw new ArgumentNullException(nameof(Hnsw));
    }
}

/// <summary>A collection's name, options and live record count.</summary>
/// <param name="Name">The collection name.</param>
/// <param name="Options">Its options.</param>
/// <param name="Count">Records it holds (acknowledged writes).</param>
public sealed record CollectionInfo(string Name, CollectionOptions Options, int Count);

/// <summary>A stored record.</summary>
/// <param name="Id">The record id.</param>
/// <param name="Vector">The vector, as inserted.</param>
/// <param name="Metadata">The metadata (empty when none).</param>
public sealed record VectorRecord(string Id, ReadOnlyMemory<float> Vector, IReadOnlyDictionary<string, MetadataValue> Metadata);

/// <summary>A search result.</summary>
/// <param name="Id">The record id.</param>
/// <param name="Score">The metric's score: cosine similarity or dot product (higher is closer), or Euclidean distance (lower is closer).</param>
/// <param name="Metadata">The record's metadata.</param>
public sealed record SearchResult(string Id, float Score, IReadOnlyDictionary<string, MetadataValue> Metadata);

/// <summary>Options of one search.</summary>
public sealed record VectorSearchOptions
{
    /// <summary>Only records whose metadata satisfies it are returned (evaluated inside the index search).</summary>
    public MetadataFilter? Filter { get; init; }

    /// <summary>The HNSW beam width for this query (defaults to the collection's efSearch).</summary>
    public int? Ef { get; init; }

    /// <summary>Exact brute-force search instead of the index.</summary>
    public bool Exact { get; init; }
}
