using System.Diagnostics;
using OxiVec.Indexing;

namespace OxiVec.Storage;

/// <summary>
/// The applied (acknowledged) state of one collection: the index, the original vectors in a contiguous arena,
/// ids and metadata by slot. Mutations come only from the database's ordered apply step; reads run concurrently.
/// </summary>
internal sealed class Collection : IDisposable
{
    private readonly ReaderWriterLockSlim _lock = new(LockRecursionPolicy.NoRecursion);
    private readonly Dictionary<string, int> _slots = new(StringComparer.Ordinal);
    private readonly List<string?> _ids = [];
    private readonly List<FrozenMetadata?> _metadata = [];
    private readonly Stack<int> _free = new();
    private readonly VectorArena _vectors;

    public Collection(string name, CollectionOptions options, IVectorIndex? index = null)
    {
        Name = name;
        Options = options;
        _vectors = new VectorArena(options.Dimension);
        Index = index ?? (options.Index == IndexKind.Flat
            ? new FlatIndex(options.Dimension, options.Metric)
            : new HnswIndex(options.Dimension, options.Metric, options.Hnsw));
    }

    /// <summary>
    /// A consistent copy for a checkpoint: the slot arrays, the vector chunks and the index snapshot, copied in
    /// bulk while writes wait; <see cref="CollectionCapture.ToImage"/> then builds the per-record image without
    /// holding anything.
    /// </summary>
    public CollectionCapture Capture()
    {
        _lock.EnterReadLock();
        try
        {
            return new CollectionCapture(_vectors, _vectors.CopyChunks(), [.. _ids], [.. _metadata], [.. _free], SnapshotIndexLocked());
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <summary>
    /// A flat index is its vectors, which the records already hold: it gets no snapshot (an empty one) and is rebuilt
    /// from the records on load, which halves the checkpoint and the copying writes wait for. An HNSW graph is
    /// snapshotted so that recovery need not rebuild it.
    /// </summary>
    private byte[] SnapshotIndexLocked()
    {
        if (Index is FlatIndex)
        {
            return [];
        }

        // Presized (vectors plus a generous allowance for links) so the stream does not regrow and copy hundreds
        // of megabytes while writers wait.
        long estimate = ((long)_ids.Count * Options.Dimension * sizeof(float) * 5 / 4) + (1 << 20);
        var index = new MemoryStream((int)Math.Min(estimate, Array.MaxLength));
        Index.WriteSnapshot(index);
        return index.ToArray();
    }

    /// <summary>The index of a checkpoint that stored none: a flat index of the image's records, by slot.</summary>
    /// <exception cref="InvalidDataException">The collection's index kind needs a snapshot.</exception>
    public static IVectorIndex RebuildIndex(string name, CollectionOptions options, CollectionImage image, CancellationToken cancellationToken = default)
    {
        if (options.Index != IndexKind.Flat)
        {
            throw new InvalidDataException($"Collection '{name}': the checkpoint holds no snapshot of its {options.Index} index.");
        }

        var index = new FlatIndex(options.Dimension, options.Metric);
        for (int i = 0; i < image.Records.Count; i++)
        {
            if ((i & 4095) == 4095 && cancellationToken.IsCancellationRequested)
            {
                index.Dispose();
                cancellationToken.ThrowIfCancellationRequested();
            }

            SlottedRecord r = image.Records[i];
            index.Add(r.Slot, r.Record.Vector.Span);
        }

        return index;
    }

    /// <summary>Rebuilds a collection from a checkpoint image whose index snapshot was loaded into <paramref name="index"/>.</summary>
    /// <exception cref="InvalidDataException">The records and the index disagree.</exception>
    public static Collection Restore(string name, CollectionOptions options, CollectionImage image, IVectorIndex index)
    {
        if (index.Dimension != options.Dimension || index.Metric != options.Metric || index.Count != image.Records.Count)
        {
            throw new InvalidDataException(
                $"Collection '{name}': the index snapshot ({index.Count} vectors of {index.Dimension} dims, {index.Metric}) does not match the {image.Records.Count} records of {options.Dimension} dims, {options.Metric}.");
        }

        string? mismatch = (options.Index, index) switch
        {
            (IndexKind.Flat, FlatIndex) => null,
            (IndexKind.Hnsw, HnswIndex hnsw) when hnsw.Parameters == options.Hnsw => null,
            (IndexKind.Hnsw, HnswIndex hnsw) => $"the snapshot's HNSW parameters {hnsw.Parameters} are not the collection's {options.Hnsw}",
            _ => $"the snapshot holds a {index.GetType().Name} but the collection's index is {options.Index}",
        };
        if (mismatch is not null)
        {
            throw new InvalidDataException($"Collection '{name}': {mismatch}.");
        }

        var collection = new Collection(name, options, index);
        for (int i = 0; i < image.HighWater; i++)
        {
            collection._ids.Add(null);
            collection._metadata.Add(null);
        }

        foreach (SlottedRecord r in image.Records)
        {
            if (r.Slot < 0 || r.Slot >= image.HighWater || collection._ids[r.Slot] is not null || !index.Contains(r.Slot)
                || !collection._slots.TryAdd(r.Record.Id, r.Slot))
            {
                throw new InvalidDataException($"Collection '{name}': record '{r.Record.Id}' claims slot {r.Slot}, which is out of range, taken twice, or not in the index.");
            }

            collection._vectors.EnsureSlot(r.Slot);
            r.Record.Vector.Span.CopyTo(collection._vectors.Get(r.Slot));
            collection._ids[r.Slot] = r.Record.Id;
            collection._metadata[r.Slot] = FrozenMetadata.Of(r.Record.Metadata);
        }

        for (int i = image.FreeSlots.Count - 1; i >= 0; i--)
        {
            collection._free.Push(image.FreeSlots[i]);
        }

        if (index is FlatIndex)
        {
            // A flat index releases a slot the moment it is removed, so every slot below the high-water mark that
            // holds no record is free, including those released since the collection last took released ids (a
            // rebuilt index has no list of them: they would be neither free nor used, lost for good). Its own
            // list, when a snapshot had one, is taken here so no slot is handed out twice.
            _ = index.TakeReleasedIds();
            var known = new HashSet<int>(image.FreeSlots);
            for (int slot = image.HighWater - 1; slot >= 0; slot--)
            {
                if (collection._ids[slot] is null && !known.Contains(slot))
                {
                    collection._free.Push(slot);
                }
            }
        }

        return collection;
    }

    public string Name { get; }

    public CollectionOptions Options { get; }

    public IVectorIndex Index { get; }

    public int Count
    {
        get
        {
            _lock.EnterReadLock();
            try
            {
                return _slots.Count;
            }
            finally
            {
                _lock.ExitReadLock();
            }
        }
    }

    /// <summary>Inserts or replaces <paramref name="id"/> (idempotent, as replay requires); keeps a read-only copy of the metadata.</summary>
    public void Upsert(string id, ReadOnlySpan<float> vector, IReadOnlyDictionary<string, MetadataValue> metadata)
    {
        EnterWrite();
        try
        {
            UpsertLocked(id, vector, metadata);
        }
        finally
        {
            ExitWrite();
        }
    }

    /// <summary>Removes <paramref name="id"/>; false when it is not there (replay is idempotent).</summary>
    public bool Delete(string id)
    {
        EnterWrite();
        try
        {
            return DeleteLocked(id);
        }
        finally
        {
            ExitWrite();
        }
    }

    /// <summary>
    /// Takes the write lock: readers wait until <see cref="ExitWrite"/>, so several changes made in between (a
    /// committed transaction's) become visible together.
    /// </summary>
    public void EnterWrite() => _lock.EnterWriteLock();

    /// <summary>Releases the lock taken by <see cref="EnterWrite"/>.</summary>
    public void ExitWrite() => _lock.ExitWriteLock();

    /// <summary><see cref="Upsert"/> under the write lock the caller holds.</summary>
    public void UpsertLocked(string id, ReadOnlySpan<float> vector, IReadOnlyDictionary<string, MetadataValue> metadata)
    {
        Debug.Assert(_lock.IsWriteLockHeld, "the caller holds the write lock");
        if (_slots.TryGetValue(id, out int old))
        {
            RemoveSlotLocked(id, old);
        }

        foreach (int released in Index.TakeReleasedIds())
        {
            _free.Push(released);
        }

        int slot = _free.Count > 0 ? _free.Pop() : _ids.Count;
        Index.Add(slot, vector);
        if (slot == _ids.Count)
        {
            _ids.Add(null);
            _metadata.Add(null);
        }

        _vectors.EnsureSlot(slot);
        vector.CopyTo(_vectors.Get(slot));
        _ids[slot] = id;
        _metadata[slot] = FrozenMetadata.Of(metadata);
        _slots[id] = slot;
    }

    /// <summary><see cref="Delete"/> under the write lock the caller holds.</summary>
    public bool DeleteLocked(string id)
    {
        Debug.Assert(_lock.IsWriteLockHeld, "the caller holds the write lock");
        if (!_slots.TryGetValue(id, out int slot))
        {
            return false;
        }

        RemoveSlotLocked(id, slot);
        return true;
    }

    public VectorRecord? Get(string id)
    {
        _lock.EnterReadLock();
        try
        {
            return _slots.TryGetValue(id, out int slot) ? RecordLocked(slot) : null;
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    public bool Contains(string id)
    {
        _lock.EnterReadLock();
        try
        {
            return _slots.ContainsKey(id);
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <summary>The ids of every record (a consistent snapshot).</summary>
    public List<string> Ids()
    {
        _lock.EnterReadLock();
        try
        {
            return [.. _slots.Keys];
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <summary>Every record, sorted by id (a consistent snapshot).</summary>
    public List<VectorRecord> Snapshot()
    {
        _lock.EnterReadLock();
        try
        {
            var records = new List<VectorRecord>(_slots.Count);
            foreach (int slot in _slots.Values)
            {
                records.Add(RecordLocked(slot));
            }

            records.Sort((a, b) => string.CompareOrdinal(a.Id, b.Id));
            return records;
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    public List<SearchResult> Search(ReadOnlySpan<float> query, int k, VectorSearchOptions options)
    {
        _lock.EnterReadLock();
        try
        {
            MetadataFilter? filter = options.Filter;
            var indexOptions = new SearchOptions
            {
                Ef = options.Ef,
                Exact = options.Exact,
                Filter = filter is null ? null : slot => _metadata[slot] is { } m && filter.Matches(m),
            };
            IReadOnlyList<SearchHit> hits = Index.Search(query, k, indexOptions);
            var results = new List<SearchResult>(hits.Count);
            foreach (SearchHit hit in hits)
            {
                results.Add(new SearchResult(_ids[hit.Id]!, Options.Metric.ToScore(hit.Distance), _metadata[hit.Id]!));
            }

            return results;
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    public void Dispose()
    {
        Index.Dispose();
        _lock.Dispose();
    }

    private void RemoveSlotLocked(string id, int slot)
    {
        Index.Remove(slot);
        _slots.Remove(id);
        _ids[slot] = null;
        _metadata[slot] = null;
    }

    private VectorRecord RecordLocked(int slot) =>
        new(_ids[slot]!, _vectors.Get(slot).ToArray(), _metadata[slot]!);
}

/// <summary>A record and the index slot it occupies.</summary>
internal readonly record struct SlottedRecord(int Slot, VectorRecord Record);

/// <summary>What <see cref="Collection.Capture"/> copied under the lock: bulk arrays, no per-record objects yet.</summary>
internal sealed class CollectionCapture(
    VectorArena layout, float[]?[] chunks, string?[] ids, FrozenMetadata?[] metadata, int[] free, byte[] indexSnapshot)
{
    /// <summary>The checkpoint image: every live slot's record (vectors are views of the copied chunks).</summary>
    public CollectionImage ToImage()
    {
        var records = new List<SlottedRecord>(ids.Length - free.Length);
        for (int slot = 0; slot < ids.Length; slot++)
        {
            if (ids[slot] is { } id)
            {
                records.Add(new SlottedRecord(slot, new VectorRecord(id, layout.Slice(chunks, slot), metadata[slot]!)));
            }
        }

        return new CollectionImage(records, ids.Length, free, indexSnapshot);
    }
}

/// <summary>What a checkpoint stores of one collection.</summary>
/// <param name="Records">Live records, by slot.</param>
/// <param name="HighWater">Slots ever used (the next new slot).</param>
/// <param name="FreeSlots">Slots released by the index and not yet reused, top of the stack first.</param>
/// <param name="IndexSnapshot">The index snapshot bytes (empty when the checkpoint has none: the index is rebuilt).</param>
internal sealed record CollectionImage(IReadOnlyList<SlottedRecord> Records, int HighWater, IReadOnlyList<int> FreeSlots, byte[] IndexSnapshot);
