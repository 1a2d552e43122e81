using OxiVec.Indexing;

namespace OxiVec.Storage;

/// <summary>A record and the index slot it occupies.</summary>
internal readonly record struct SlottedRecord(int Slot, VectorRecord Record);

/// <summary>
/// A record a capture reads: its slot, id, vector (the capture's reused buffer: valid until the enumeration moves on)
/// and metadata. A struct, so that streaming a million records allocates nothing per record.
/// </summary>
internal readonly record struct CapturedRecord(int Slot, ReadOnlyMemory<char> Id, ReadOnlyMemory<float> Vector, IReadOnlyDictionary<string, MetadataValue> Metadata);

/// <summary>What a checkpoint load yields of one collection.</summary>
/// <param name="Records">Live records, by slot.</param>
/// <param name="HighWater">Slots ever used (the next new slot).</param>
/// <param name="FreeSlots">Slots released by the index and not yet reused, top of the stack first.</param>
/// <param name="IndexSnapshot">The index snapshot bytes (empty when the checkpoint has none: the index is rebuilt).</param>
internal sealed record CollectionImage(IReadOnlyList<SlottedRecord> Records, int HighWater, IReadOnlyList<int> FreeSlots, byte[] IndexSnapshot);

/// <summary>
/// What <see cref="Collection.Capture"/> took while commits were excluded: the version read at, the record count,
/// the high-water mark, the free slots and the index's captured view. The records themselves are read later, slot
/// by slot, while writers go on (<see cref="Records"/>): the capture reads at its version, so every slot visible at
/// it keeps its contents until the capture is disposed. Dispose it once written.
/// </summary>
internal sealed class CollectionCapture : IDisposable
{
    private readonly Collection _collection;
    private IndexSnapshotView? _index;
    private bool _indexReleased;
    private bool _disposed;

    public CollectionCapture(Collection collection, long version, int recordCount, int highWater, int[] freeSlots, IndexSnapshotView? index)
    {
        _collection = collection;
        Version = version;
        RecordCount = recordCount;
        HighWater = highWater;
        FreeSlots = freeSlots;
        _index = index;
        VectorsInIndex = index is not null && collection.Index.HoldsVectorsAsGiven;
    }

    public string Name => _collection.Name;

    public CollectionOptions Options => _collection.Options;

    /// <summary>The version (commit LSN) captured.</summary>
    public long Version { get; }

    /// <summary>Live records at <see cref="Version"/>.</summary>
    public int RecordCount { get; }

    /// <summary>Slots ever used at the capture.</summary>
    public int HighWater { get; }

    /// <summary>Free slots at the capture, top of the stack first.</summary>
    public IReadOnlyList<int> FreeSlots { get; }

    /// <summary>Whether an index snapshot is stored (a flat index stores none: it is rebuilt from the records).</summary>
    public bool HasIndexSnapshot => _index is not null || _indexReleased;

    /// <summary>
    /// Whether the index snapshot holds every captured record's vector bit for bit as given (an index snapshot is
    /// stored and <see cref="IVectorIndex.HoldsVectorsAsGiven"/>: Euclidean and dot-product HNSW), so the records file
    /// need not hold them again: recovery takes them from the loaded index by slot. The view is captured with the
    /// records' version (commits excluded), and every slot visible at it is live in the index with its vector.
    /// </summary>
    public bool VectorsInIndex { get; }

    /// <summary>
    /// The records visible at <see cref="Version"/>, by slot, read one at a time. Every record's vector is the same
    /// reused buffer: a record is valid only until the enumeration moves on (copy it to keep it).
    /// </summary>
    /// <param name="vectors">Whether to read the vectors (false: every record's vector is empty; see <see cref="VectorsInIndex"/>).</param>
    /// <exception cref="ObjectDisposedException">The capture was disposed.</exception>
    public IEnumerable<CapturedRecord> Records(bool vectors = true)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        float[] buffer = vectors ? new float[_collection.Options.Dimension] : [];
        char[] idBuffer = new char[IdColumn.InlineChars];
        for (int slot = 0; slot < HighWater; slot++)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_collection.VisibleAt(slot, Version))
            {
                int idLength = CopyRecord(slot, buffer, ref idBuffer, out FrozenMetadata metadata);
                yield return new CapturedRecord(slot, idBuffer.AsMemory(0, idLength), buffer, metadata);
            }
        }
    }

    /// <summary>Reads the record in <paramref name="slot"/>: its vector into <paramref name="buffer"/>, its id into <paramref name="ids"/> (grown for a long id); returns the id's length.</summary>
    private int CopyRecord(int slot, float[] buffer, ref char[] ids, out FrozenMetadata metadata)
    {
        metadata = _collection.RecordAt(slot, buffer, out ReadOnlySpan<char> id);
        if (id.Length > ids.Length)
        {
            ids = new char[id.Length];
        }

        id.CopyTo(ids);
        return id.Length;
    }

    /// <summary>Writes the captured index snapshot (nothing for a flat index).</summary>
    /// <exception cref="InvalidOperationException">The index's view was released (<see cref="ReleaseIndex"/>).</exception>
    public void WriteIndex(Stream destination)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_indexReleased)
        {
            throw new InvalidOperationException($"Collection '{Name}': the captured index view was released after it was written; it cannot be written again.");
        }

        _index?.WriteTo(destination);
    }

    /// <summary>
    /// Ends the index's captured view once its snapshot is written, before the records are: while a view lives, the
    /// index copies every chunk a write changes that the view shares, and serialises its writers (see
    /// <c>ChunkedStore</c>); the records need no view (they are read at <see cref="Version"/>, whose slots keep their
    /// contents until this capture is disposed). Nothing for a flat index.
    /// </summary>
    public void ReleaseIndex()
    {
        if (_index is null)
        {
            return;
        }

        _index.Dispose();
        _index = null;
        _indexReleased = true;
    }

    /// <summary>The whole capture in memory (tests: a checkpoint streams it instead).</summary>
    public CollectionImage ToImage()
    {
        using var index = new MemoryStream();
        WriteIndex(index);
        return new CollectionImage(
            [.. Records().Select(r => new SlottedRecord(r.Slot, new VectorRecord(r.Id.ToString(), r.Vector.ToArray(), r.Metadata)))], HighWater, FreeSlots, index.ToArray());
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _index?.Dispose();
        _index = null;
        _collection.EndCapture(Version);
    }
}
