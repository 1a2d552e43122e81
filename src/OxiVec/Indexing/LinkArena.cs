namespace OxiVec.Indexing;

/// <summary>
/// Fixed-size integer blocks (one per slot) in chunks, for the layer-0 adjacency lists of the HNSW graph: block
/// element 0 is the neighbour count, the neighbours follow. Not thread-safe: the owning index synchronises.
/// </summary>
internal sealed class LinkArena
{
    private const int Shift = 10;
    private const int PerChunk = 1 << Shift;
    private const int Mask = PerChunk - 1;
    private readonly int _stride;
    private int[]?[] _chunks = [];

    public LinkArena(int stride) => _stride = stride;

    /// <summary>Makes sure <paramref name="slot"/> has a block.</summary>
    public void EnsureSlot(int slot)
    {
        int chunk = slot >> Shift;
        if (chunk >= _chunks.Length)
        {
            Array.Resize(ref _chunks, Math.Max(chunk + 1, _chunks.Length * 2));
        }

        _chunks[chunk] ??= new int[PerChunk * _stride];
    }

    /// <summary>The block of <paramref name="slot"/>; the slot must have one.</summary>
    public Span<int> Block(int slot) => _chunks[slot >> Shift]!.AsSpan((slot & Mask) * _stride, _stride);
}
