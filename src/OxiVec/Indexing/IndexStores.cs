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

    /// <summary>
    /// Checks a chunk geometry: both powers of two, and a byte chunk holds at least as many slots as a vector chunk
    /// (so the states of one vector chunk lie in one state chunk). Tests use small chunks to exercise many.
    /// </summary>
    public static void Validate(int vectorsPerChunk, int bytesPerChunk)
    {
        if (!int.IsPow2(vectorsPerChunk) || !int.IsPow2(bytesPerChunk) || bytesPerChunk < vectorsPerChunk)
        {
            throw new ArgumentOutOfRangeException(
                nameof(bytesPerChunk), $"Chunk sizes {vectorsPerChunk} and {bytesPerChunk} are not powers of two with the second at least the first.");
        }
    }

    /// <summary>Vectors of <paramref name="dimension"/> floats.</summary>
    public static ChunkedStore<float> Vectors(int dimension, SnapshotEpoch epoch, int perChunk = MaxVectorsPerChunk) =>
        new(dimension, sizeof(float), perChunk, epoch);

    /// <summary>One byte per slot.</summary>
    public static ChunkedStore<byte> Bytes(SnapshotEpoch epoch, int perChunk = BytesPerChunk) => new(1, 1, perChunk, epoch);

    /// <summary>
    /// <see cref="IVectorIndex.CopyVector"/> for an index whose vectors are <paramref name="vectors"/> and whose
    /// slot state the caller read first is <paramref name="state"/>: checks the destination's length, then that
    /// <paramref name="id"/> is live. A state, not a delegate: a checkpoint copies every vector this way, and a
    /// delegate made of an instance method is an allocation per call.
    /// </summary>
    public static void CopyVector(ChunkedStore<float> vectors, byte state, int id, Span<float> destination)
    {
        if (destination.Length != vectors.Stride)
        {
            throw new ArgumentException(
                $"The destination has {destination.Length} floats but the index has {vectors.Stride} dimensions.", nameof(destination));
        }

        // The state was read first (the caller's argument): a live id's chunk is in every table read after it.
        if (state != SlotState.Live)
        {
            throw new KeyNotFoundException($"Id {id} is not in the index.");
        }

        vectors.Table.Item(id).CopyTo(destination);
    }
}
