namespace OxiVec.Indexing;

/// <summary>Per-query settings of <see cref="IVectorIndex.Search"/>. Immutable; <see cref="Default"/> has none set.</summary>
public sealed record SearchOptions
{
    private readonly int? _ef;

    /// <summary>No filter, the index's default beam width, approximate search.</summary>
    public static SearchOptions Default { get; } = new();

    /// <summary>
    /// When set, only ids for which the predicate returns <see langword="true"/> are returned. The predicate is
    /// called during the search (which holds no lock, so mutations of the index run meanwhile), possibly from
    /// several threads at once: it must be fast, thread-safe, and must not call back into the index.
    /// </summary>
    public Func<int, bool>? Filter { get; init; }

    /// <summary>
    /// The beam width (ef) of an approximate search; larger is slower and more accurate. <see langword="null"/>
    /// uses the index's default (<see cref="HnswParameters.EfSearch"/>). Values below <c>k</c> are raised to
    /// <c>k</c>. Ignored by exact indexes. Must be at least 1.
    /// </summary>
    public int? Ef
    {
        get => _ef;
        init
        {
            if (value is < 1)
            {
                throw new ArgumentOutOfRangeException(nameof(Ef), value, "Ef must be at least 1.");
            }

            _ef = value;
        }
    }

    /// <summary>When <see langword="true"/>, an approximate index answers by brute force (exact results).</summary>
    public bool Exact { get; init; }

    /// <summary>
    /// Tests only: an HNSW search walks the graph even when a scan would be cheaper, without a distance budget,
    /// and never falls back to a scan (it may then return fewer than k), so the walk itself can be measured.
    /// </summary>
    internal bool GraphWalkOnly { get; init; }
}
