namespace OxiVec.Indexing;

/// <summary>
/// Settings of an <see cref="HnswIndex"/>, fixed when the index is created. Every setter validates its value
/// and names the property in the exception.
/// </summary>
/// <remarks>
/// The defaults (M 16, efConstruction 200, efSearch 64) are the usual starting point of the HNSW paper
/// (Malkov and Yashunin) and give recall above 0.95 on 128-dimensional data of tens of thousands of vectors.
/// </remarks>
public sealed record HnswParameters
{
    private readonly int _m = 16;
    private readonly int _efConstruction = 200;
    private readonly int _efSearch = 64;
    private readonly double _compactionThreshold = 0.15;

    /// <summary>The largest allowed <see cref="M"/>.</summary>
    public const int MaxM = 512;

    /// <summary>The largest <see cref="EfConstruction"/> allowed: 10,000.</summary>
    public const int MaxEfConstruction = 10_000;

    /// <summary>
    /// The number of neighbours a new node links to on every layer, and the maximum degree above layer 0
    /// (layer 0 allows <see cref="MaxM0"/>). 2 to 512; default 16.
    /// </summary>
    public int M
    {
        get => _m;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 2, nameof(M));
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, MaxM, nameof(M));
            _m = value;
        }
    }

    /// <summary>The maximum degree on layer 0: <c>2 * M</c>.</summary>
    public int MaxM0 => 2 * M;

    /// <summary>
    /// The beam width while inserting; larger builds a better graph more slowly. At least 1 (values below
    /// <see cref="M"/> act as <see cref="M"/>), at most <see cref="MaxEfConstruction"/> (10,000); default 200.
    /// </summary>
    public int EfConstruction
    {
        get => _efConstruction;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1, nameof(EfConstruction));
            if (value > MaxEfConstruction)
            {
                throw new ArgumentOutOfRangeException(
                    nameof(EfConstruction), value,
                    $"EfConstruction must be at most {MaxEfConstruction} (HnswParameters.MaxEfConstruction): every insert searches a beam this wide, so a larger one costs build time and memory without improving recall.");
            }

            _efConstruction = value;
        }
    }

    /// <summary>
    /// The default beam width of a search (<see cref="SearchOptions.Ef"/> overrides it per query). At least 1;
    /// default 64.
    /// </summary>
    public int EfSearch
    {
        get => _efSearch;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1, nameof(EfSearch));
            _efSearch = value;
        }
    }

    /// <summary>
    /// The seed of the level generator: the same seed and the same sequence of operations build the same graph.
    /// A snapshot stores the generator's current state, so a loaded index continues the same sequence. Default 42.
    /// </summary>
    public int Seed { get; init; } = 42;

    /// <summary>
    /// Whether neighbour selection fills the remaining places with connections the heuristic pruned (the paper's
    /// <em>keepPrunedConnections</em>). Default <see langword="false"/>.
    /// </summary>
    public bool KeepPrunedConnections { get; init; }

    /// <summary>
    /// Whether <see cref="HnswIndex.Remove"/> compacts automatically once deleted nodes reach
    /// <see cref="CompactionThreshold"/> of all nodes. Default <see langword="true"/>.
    /// </summary>
    public bool AutoCompact { get; init; } = true;

    /// <summary>
    /// The fraction of nodes that are deleted (tombstones) at which an automatic compaction runs, in (0, 1];
    /// default 0.15.
    /// </summary>
    public double CompactionThreshold
    {
        get => _compactionThreshold;
        init
        {
            if (!(value > 0 && value <= 1))
            {
                throw new ArgumentOutOfRangeException(
                    nameof(CompactionThreshold), value, "CompactionThreshold must be greater than 0 and at most 1.");
            }

            _compactionThreshold = value;
        }
    }
}
