namespace OxiVec.Indexing;

/// <summary>
/// Loads index snapshots written by <see cref="IVectorIndex.WriteSnapshot"/>, whatever the index kind.
/// </summary>
/// <remarks>
/// <para>
/// <b>Format (version 1).</b> Little-endian throughout. A 12-byte header: the magic <c>"OXIVIDX\0"</c>, the format
/// version (u16), the kind (u8: 1 flat, 2 HNSW) and a reserved zero byte. Then sections, each a 4-byte ASCII tag,
/// a u64 length and that many bytes, in a fixed order:
/// </para>
/// <list type="bullet">
/// <item><c>META</c>: dimension (i32), metric (u8); for HNSW the parameters (M, efConstruction, efSearch, seed as
/// i32, keepPrunedConnections and autoCompact as u8, compactionThreshold as f64); the high-water mark (one past
/// the highest slot ever used, i32), the live count (i32); for HNSW also the tombstone count, the entry point and
/// the top level (i32 each, -1 when empty) and the level generator's state (u64).</item>
/// <item><c>SLOT</c>: one state byte per slot below the high-water mark: 0 free, 1 live, 2 tombstone (HNSW).</item>
/// <item><c>VECT</c>: the prepared (for cosine, normalised) vector of every non-free slot, in slot order, as raw
/// float32.</item>
/// <item><c>LEVL</c> (HNSW): the level of every non-free slot, one byte each, in slot order.</item>
/// <item><c>LINK</c> (HNSW): for every non-free slot in order and each of its layers from 0 up: the neighbour
/// count (i32) and the neighbour slots (i32 each).</item>
/// <item><c>RELS</c>: the released ids not yet taken by <see cref="IVectorIndex.TakeReleasedIds"/>, in order
/// (i32 each).</item>
/// </list>
/// <para>
/// Last comes a trailer: the CRC-32C (Castagnoli) of every byte before it, u32. Reading consumes exactly the
/// snapshot's bytes, so a snapshot can be embedded in a larger stream.
/// </para>
/// <para>
/// <b>Validation.</b> Loading checks everything before returning: magic, version, kind, every META value, that
/// each section has the length its content implies, every slot state, that every vector component is finite,
/// levels (at most the top level), degrees (at most M, 2M on layer 0), every link (in range, not free, not the
/// node itself, not repeated, reaching the layer), the entry point and counts, every released id, and finally the
/// checksum. Any problem throws <see cref="InvalidDataException"/> whose message names the section and the byte
/// offset; no index is returned. Allocations grow with the bytes actually read, so a damaged length cannot make a
/// load allocate far more than the stream holds. Errors of the stream itself (I/O) propagate unchanged.
/// </para>
/// <para>
/// Counters kept for diagnostics only (exact fallbacks, compactions, relinked nodes) are not saved; a loaded index
/// starts them at zero.
/// </para>
/// </remarks>
public static class VectorIndexSnapshot
{
    /// <summary>The only snapshot format version this build writes and reads.</summary>
    public const ushort FormatVersion = IndexSnapshotFormat.Version;

    /// <summary>
    /// Loads a <see cref="FlatIndex"/> or <see cref="HnswIndex"/> from a snapshot, whichever the snapshot holds.
    /// The stream is left just after the snapshot and is not closed.
    /// </summary>
    /// <param name="source">A readable stream positioned at the start of a snapshot.</param>
    /// <returns>An index that answers every search exactly as the snapshotted index did.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="source"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="source"/> is not readable.</exception>
    /// <exception cref="InvalidDataException">The snapshot is truncated, damaged or of an unknown version or kind.</exception>
    public static IVectorIndex ReadSnapshot(Stream source)
    {
        var reader = new SnapshotReader(source);
        byte kind = reader.ReadHeader();
        return kind == IndexSnapshotFormat.FlatKind ? FlatIndex.ReadBody(reader) : HnswIndex.ReadBody(reader);
    }

    /// <summary>Reads the header and checks that it announces <paramref name="expected"/>.</summary>
    internal static SnapshotReader OpenKind(Stream source, byte expected)
    {
        var reader = new SnapshotReader(source);
        byte kind = reader.ReadHeader();
        if (kind != expected)
        {
            throw reader.Error(
                $"the snapshot holds {IndexSnapshotFormat.KindName(kind)}, not {IndexSnapshotFormat.KindName(expected)}",
                10);
        }

        return reader;
    }
}
