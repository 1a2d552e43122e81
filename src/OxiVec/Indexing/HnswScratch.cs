namespace OxiVec.Indexing;

/// <summary>
/// The per-operation working memory of an <see cref="HnswIndex"/> (visited set, heaps, buffers), rented from the
/// index's pool so that a search allocates nothing but its result. Used by one thread at a time.
/// </summary>
internal sealed class HnswScratch(int dimension)
{
    private Candidate[] _found = new Candidate[256];
    private Candidate[] _prune = new Candidate[64];
    private int[] _discarded = new int[256];
    private int[] _pruneDiscarded = new int[64];
    private int[] _selected = new int[64];
    private int[] _pruneSelected = new int[64];
    private int[] _fresh = new int[64];

    public VisitedSet Visited { get; } = new();

    /// <summary>Distances the layer searches computed since the owner last reset it (an add's work, for its counters).</summary>
    public long Distances { get; set; }

    /// <summary>Nodes the layer searches expanded (popped and whose list was read) since the owner last reset it.</summary>
    public long Expanded { get; set; }

    public MinCandidateHeap Candidates { get; } = new();

    public MaxCandidateHeap Results { get; } = new();

    /// <summary>The prepared (validated, normalised) query.</summary>
    public float[] Query { get; } = new float[dimension];

    /// <summary>Candidates found on a layer, or gathered for a repair.</summary>
    public Span<Candidate> Found(int size) => Grow(ref _found, size);

    /// <summary>Neighbour selection output for the node being linked.</summary>
    public Span<int> Selected(int size) => Grow(ref _selected, size);

    /// <summary>Candidates the heuristic pruned, for the node being linked.</summary>
    public Span<int> Discarded(int size) => Grow(ref _discarded, size);

    /// <summary>The unvisited neighbours of the node a layer search is expanding.</summary>
    public Span<int> Fresh(int size) => Grow(ref _fresh, size);

    /// <summary>Candidates of a neighbour whose list overflowed.</summary>
    public Span<Candidate> Prune(int size) => Grow(ref _prune, size);

    /// <summary>Selection output of a neighbour whose list overflowed.</summary>
    public Span<int> PruneSelected(int size) => Grow(ref _pruneSelected, size);

    /// <summary>Pruned candidates of a neighbour whose list overflowed.</summary>
    public Span<int> PruneDiscarded(int size) => Grow(ref _pruneDiscarded, size);

    private static Span<T> Grow<T>(ref T[] buffer, int size)
    {
        if (buffer.Length < size)
        {
            Array.Resize(ref buffer, Math.Max(size, buffer.Length * 2));
        }

        return buffer.AsSpan(0, size);
    }
}
