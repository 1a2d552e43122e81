namespace OxiVec.Indexing;

/// <summary>The state of a slot, one byte per slot.</summary>
internal static class SlotState
{
    /// <summary>Never used, or released: the caller may add it.</summary>
    public const byte Free = 0;

    /// <summary>Holds a live vector.</summary>
    public const byte Live = 1;

    /// <summary>Removed but still used internally (an HNSW tombstone); not yet released.</summary>
    public const byte Deleted = 2;

    /// <summary>
    /// Claimed by an <see cref="HnswIndex.Add"/> still writing the vector (never in a snapshot: captures exclude
    /// writers); treated as not live.
    /// </summary>
    public const byte Inserting = 3;
}
