namespace OxiVec.Indexing;

/// <summary>The chunk geometry of the indexes' stores (each chunk at most <see cref="ChunkedStore{T}.MaxChunkBytes"/>).</summary>
internal static class IndexStores
{
    /// <summary>The most vectors (and link blocks) per chunk.</summary>
    public const int MaxVectorsPerChunk = 1024;

    /// <summary>
    /// Slots per chunk of per-slot bytes (states, levels): at least <see cref="MaxVectorsPerChunk"/>, so the slots of
    /// one vector chunk lie in one state chunk.
    /// </summary>
    public const int BytesPerChunk = 1 << 16;

    /// <summary>Vectors of <paramref name="dimension"/> floats.</summary>
    public static ChunkedStore<float> Vectors(int dimension, SnapshotEpoch epoch) =>
        new(dimension, sizeof(float), MaxVectorsPerChunk, epoch);

    /// <summary>One byte per slot.</summary>
    public static ChunkedStore<byte> Bytes(SnapshotEpoch epoch) => new(1, 1, BytesPerChunk, epoch);
}
