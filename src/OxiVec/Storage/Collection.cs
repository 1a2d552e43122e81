using System.Diagnostics;
using OxiVec.Indexing;
using OxiVec.Storage.Versions;

namespace OxiVec.Storage;

/// <summary>
/// The applied (acknowledged) state of one collection: the index, the original vectors, ids and metadata by slot,
/// each slot stamped with the versions (commit LSNs) it is visible between.
/// </summary>
/// <remarks>
/// <para>
/// The original vectors are read from the index when it holds them bit for bit as given
/// (<see cref="IVectorIndex.HoldsVectorsAsGiven"/>: Euclidean and dot product), so those collections keep one copy of
/// each vector; a cosine index holds unit vectors, so the collection keeps the originals itself (<see cref="SlotVectors"/>).
/// A slot's vector is read only while the slot is visible to the reader (or under the catalog lock), and a visible
/// slot is removed from the index only once no reader reads at a version that sees it, so the index still holds it.
/// </para>
/// </remarks>
/// <remarks>
/// <para>
/// Mutations come from one thread at a time (the database's ordered apply step) in two phases: <see cref="Prepare"/>
/// writes a record into a hidden slot and adds it to the index (no lock readers wait for), then, under the catalog
/// lock (<see cref="EnterCatalog"/>), <see cref="CommitPutLocked"/> / <see cref="CommitRemoveLocked"/> stamp the
/// commit's version and update the id catalog. The commit becomes visible to searches when the database publishes
/// its version (<see cref="ReadVersions.Publish"/>): a search reads at one version and accepts a slot only when
/// visibleFrom &lt;= version &lt; visibleUntil, so it sees a commit wholly or not at all, in every collection.
/// </para>
/// <para>
/// A removed or replaced slot stays in the index and keeps its data until no reader reads at a version older than
/// its removal (<see cref="ReclaimRetired"/>): only then is it removed from the index and later reused. A reused slot
/// is hidden (visibleFrom = max) before anything else in it is rewritten, and readers read visibleUntil before
/// visibleFrom, so no reader ever pairs an old stamp with new contents.
/// </para>
/// </remarks>
internal sealed partial class Collection : IDisposable
{
    private const long Never = long.MaxValue;

    private readonly ReadVersions _versions;
    private readonly Lock _catalog = new();
    private readonly IdColumn _ids = new(); // no object per record: see IdColumn
    private readonly IdMap _slots; // under _catalog; reads its keys from _ids
    private readonly SlotColumn<FrozenMetadata?> _metadata = new();
    private readonly SlotColumn<long> _visibleFrom = new();
    private readonly SlotColumn<long> _visibleUntil = new();
    private readonly SlotVectors? _vectors; // null when the index holds the vectors as given
    private readonly Stack<int> _free = new(); // apply step only
    private readonly Queue<(int Slot, long Version)> _retired = new(); // apply step only, in version order
    private int _highWater; // slots ever used; written by the apply step with Volatile

    /// <summary>Creates an empty collection reading at <paramref name="versions"/> (a private clock when null: a collection on its own).</summary>
    public Collection(string name, CollectionOptions options, IVectorIndex? index = null, ReadVersions? versions = null)
    {
        Name = name;
        Options = options;
        _versions = versions ?? new ReadVersions();
        _slots = new IdMap(_ids);
        Index = index ?? (options.Index == IndexKind.Flat
            ? new FlatIndex(options.Dimension, options.Metric)
            : new HnswIndex(options.Dimension, options.Metric, options.Hnsw));
        _vectors = Index.HoldsVectorsAsGiven ? null : new SlotVectors(options.Dimension);
    }

    public string Name { get; }

    public CollectionOptions Options { get; }

    public IVectorIndex Index { get; }

    /// <summary>Whether the collection keeps a copy of each vector besides the index's (only when the index does not hold them as given: cosine).</summary>
    internal bool KeepsOwnVectors => _vectors is not null;

    /// <summary>Records in the collection (the latest commit applied to the catalog).</summary>
    public int Count
    {
        get
        {
            lock (_catalog)
            {
                return _slots.Count;
            }
        }
    }

    /// <summary>
    /// Captures the collection for a checkpoint in O(1) plus the free-slot list and the index's capture: the
    /// capture reads at the published version, which holds back the reuse of every slot it may read until it is
    /// disposed. The caller excludes commits meanwhile (the database holds its apply lock), so the published
    /// version is exactly the state captured.
    /// </summary>
    public CollectionCapture Capture()
    {
        long version = _versions.Published;
        _versions.EnterAt(version);
        try
        {
            int records;
            lock (_catalog)
            {
                records = _slots.Count;
            }

            IndexSnapshotView? index = Index is FlatIndex ? null : Index.CaptureSnapshot();
            return new CollectionCapture(this, version, records, Volatile.Read(ref _highWater), _free.ToArray(), index);
        }
        catch
        {
            _versions.Exit(version);
            throw;
        }
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

    /// <summary>
    /// Rebuilds a collection from a checkpoint image whose index snapshot was loaded into <paramref name="index"/>.
    /// Index nodes with no record are removed: their removal was still deferred (a search could see them) when
    /// the checkpoint was captured, and the records are the truth. A record may come without its vector (empty) when
    /// the index holds the vectors as given (<see cref="IVectorIndex.HoldsVectorsAsGiven"/>): the collection reads
    /// them from the index and keeps no copy.
    /// </summary>
    /// <exception cref="InvalidDataException">The records and the index disagree.</exception>
    public static Collection Restore(string name, CollectionOptions options, CollectionImage image, IVectorIndex index, ReadVersions? versions = null)
    {
        string? mismatch = (options.Index, index) switch
        {
            _ when index.Dimension != options.Dimension || index.Metric != options.Metric =>
                $"the index snapshot ({index.Dimension} dims, {index.Metric}) does not match the collection's {options.Dimension} dims, {options.Metric}",
            (IndexKind.Flat, FlatIndex) => null,
            (IndexKind.Hnsw, HnswIndex hnsw) when hnsw.Parameters == options.Hnsw => null,
            (IndexKind.Hnsw, HnswIndex hnsw) => $"the snapshot's HNSW parameters {hnsw.Parameters} are not the collection's {options.Hnsw}",
            _ => $"the snapshot holds a {index.GetType().Name} but the collection's index is {options.Index}",
        };
        if (mismatch is not null)
        {
            throw new InvalidDataException($"Collection '{name}': {mismatch}.");
        }

        var collection = new Collection(name, options, index, versions);
        collection._slots.EnsureCapacity(image.Records.Count);
        if (image.HighWater > 0)
        {
            collection.EnsureSlot(image.HighWater - 1);
        }

        for (int slot = 0; slot < image.HighWater; slot++)
        {
            collection._visibleFrom.At(slot) = Never;
            collection._visibleUntil.At(slot) = 0;
        }

        foreach (SlottedRecord r in image.Records)
        {
            if (r.Slot < 0 || r.Slot >= image.HighWater || collection._ids.Has(r.Slot) || !index.Contains(r.Slot)
                || collection._slots.ContainsKey(r.Record.Id))
            {
                throw new InvalidDataException($"Collection '{name}': record '{r.Record.Id}' claims slot {r.Slot}, which is out of range, taken twice, or not in the index.");
            }

            collection._ids.Set(r.Slot, r.Record.Id); // before the map, which reads its keys from the column
            _ = collection._slots.TryAdd(r.Record.Id, r.Slot);

            if (collection._vectors is not null)
            {
                if (r.Record.Vector.Length != options.Dimension)
                {
                    // A checkpoint omits a record's vector only when the index holds it as given (not cosine).
                    throw new InvalidDataException(
                        $"Collection '{name}': record '{r.Record.Id}' in slot {r.Slot} comes without its vector ({r.Record.Vector.Length} of {options.Dimension} floats), and the {options.Metric} index does not hold it as given.");
                }

                r.Record.Vector.Span.CopyTo(collection._vectors.Get(r.Slot).Span);
            }

            collection._metadata.At(r.Slot) = FrozenMetadata.Of(r.Record.Metadata);
            collection._visibleFrom.At(r.Slot) = 0;
            collection._visibleUntil.At(r.Slot) = Never;
        }

        for (int slot = 0; slot < image.HighWater; slot++)
        {
            if (!collection._ids.Has(slot) && index.Contains(slot))
            {
                index.Remove(slot); // removed before the capture, its removal deferred for a search then running
            }
        }

        if (index.Count != image.Records.Count)
        {
            throw new InvalidDataException(
                $"Collection '{name}': the index snapshot holds {index.Count} vectors but the checkpoint {image.Records.Count} records.");
        }

        collection._highWater = image.HighWater;
        for (int i = image.FreeSlots.Count - 1; i >= 0; i--)
        {
            collection._free.Push(image.FreeSlots[i]);
        }

        if (index is FlatIndex)
        {
            // A flat index releases a slot the moment it is removed, so every slot below the high-water mark that
            // holds no record is free, including those released since the collection last took released ids and
            // those whose removal was deferred at the capture (a rebuilt index has no list of them: they would be
            // neither free nor used, lost for good). Its own list, when a snapshot had one, is taken here so no
            // slot is handed out twice.
            _ = index.TakeReleasedIds();
            var known = new HashSet<int>(image.FreeSlots);
            for (int slot = image.HighWater - 1; slot >= 0; slot--)
            {
                if (!collection._ids.Has(slot) && !known.Contains(slot))
                {
                    collection._free.Push(slot);
                }
            }
        }

        return collection;
    }

    /// <summary>Inserts or replaces <paramref name="id"/> as one commit of its own (a collection on its own: tests, tools).</summary>
    public void Upsert(string id, ReadOnlySpan<float> vector, IReadOnlyDictionary<string, MetadataValue> metadata)
    {
        long version = _versions.Published + 1;
        ReclaimRetired();
        int slot = Prepare(id, vector, FrozenMetadata.Of(metadata));
        lock (_catalog)
        {
            CommitPutLocked(id, slot, version);
        }

        _versions.Publish(version);
        ReclaimRetired();
    }

    /// <summary>Removes <paramref name="id"/> as one commit of its own; false when it is not there.</summary>
    public bool Delete(string id)
    {
        long version = _versions.Published + 1;
        ReclaimRetired();
        bool removed;
        lock (_catalog)
        {
            removed = CommitRemoveLocked(id, version);
        }

        _versions.Publish(version);
        ReclaimRetired();
        return removed;
    }

    /// <summary>
    /// Apply step: removes from the index, and frees for reuse, the slots retired at versions no reader reads at
    /// any more. Never under the catalog lock (an index change may take a while).
    /// </summary>
    public void ReclaimRetired()
    {
        if (_retired.Count == 0 || _retired.Peek().Version > _versions.Published)
        {
            return;
        }

        long oldest = _versions.OldestReader;
        while (_retired.TryPeek(out (int Slot, long Version) retired) && retired.Version <= oldest)
        {
            Index.Remove(retired.Slot);
            _retired.Dequeue();
        }
    }

    /// <summary>
    /// Apply step, first phase: writes the record into a free (or new) slot, hidden from every reader, and adds it to
    /// the index. Returns the slot for <see cref="CommitPutLocked"/>. Throws with nothing visible changed.
    /// </summary>
    public int Prepare(string id, ReadOnlySpan<float> vector, FrozenMetadata metadata)
    {
        IReadOnlyList<int> released = Index.TakeReleasedIds();
        for (int i = 0; i < released.Count; i++)
        {
            _free.Push(released[i]);
        }

        int highWater = _highWater;
        int slot = _free.Count > 0 ? _free.Pop() : highWater;
        EnsureSlot(slot);

        // Hidden first: a reader still holding the slot's old visibleUntil then reads a visibleFrom it cannot pass.
        Volatile.Write(ref _visibleFrom.At(slot), Never);
        Volatile.Write(ref _visibleUntil.At(slot), Never);
        if (_vectors is not null)
        {
            vector.CopyTo(_vectors.Get(slot).Span);
        }

        _ids.Set(slot, id); // published to readers by the Volatile.Write of visibleFrom at the commit
        Volatile.Write(ref _metadata.At(slot), metadata);
        try
        {
            Index.Add(slot, vector);
        }
        catch
        {
            if (slot != highWater)
            {
                _free.Push(slot);
            }

            throw;
        }

        if (slot == highWater)
        {
            Volatile.Write(ref _highWater, highWater + 1);
        }

        return slot;
    }

    /// <summary>Takes the catalog lock: Get, Contains and Count see a commit's changes to this collection together.</summary>
    public void EnterCatalog() => _catalog.Enter();

    /// <summary>Releases the lock taken by <see cref="EnterCatalog"/>.</summary>
    public void ExitCatalog() => _catalog.Exit();

    /// <summary>Apply step, second phase: <paramref name="id"/> now lives in the prepared <paramref name="slot"/> from <paramref name="version"/> on.</summary>
    public void CommitPutLocked(string id, int slot, long version)
    {
        Debug.Assert(_catalog.IsHeldByCurrentThread, "the caller holds the catalog lock");
        if (_slots.TryGetValue(id, out int old))
        {
            Retire(old, version);
        }

        _slots.Set(id, slot);
        Volatile.Write(ref _visibleFrom.At(slot), version);
    }

    /// <summary>Apply step, second phase: removes <paramref name="id"/> as of <paramref name="version"/>; false when it is not there (replay is idempotent).</summary>
    public bool CommitRemoveLocked(string id, long version)
    {
        Debug.Assert(_catalog.IsHeldByCurrentThread, "the caller holds the catalog lock");
        if (!_slots.Remove(id, out int slot))
        {
            return false;
        }

        Retire(slot, version);
        return true;
    }

    public VectorRecord? Get(string id)
    {
        lock (_catalog)
        {
            // A slot in the catalog is never retired, so never rewritten, while the lock is held.
            return _slots.TryGetValue(id, out int slot) ? new VectorRecord(_ids.Get(slot)!, VectorOf(slot), _metadata.At(slot)!) : null;
        }
    }

    public bool Contains(string id)
    {
        lock (_catalog)
        {
            return _slots.ContainsKey(id);
        }
    }

    /// <summary>The ids of every record (a consistent snapshot).</summary>
    public List<string> Ids()
    {
        lock (_catalog)
        {
            return _slots.Keys();
        }
    }

    /// <summary>Every record, sorted by id, as of the published version (no lock writers wait for).</summary>
    public List<VectorRecord> Snapshot()
    {
        long version = _versions.Enter();
        try
        {
            var records = new List<VectorRecord>();
            int highWater = Volatile.Read(ref _highWater);
            for (int slot = 0; slot < highWater; slot++)
            {
                if (VisibleAt(slot, version))
                {
                    records.Add(new VectorRecord(_ids.Get(slot)!, VectorOf(slot), _metadata.At(slot)!));
                }
            }

            records.Sort((a, b) => string.CompareOrdinal(a.Id, b.Id));
            return records;
        }
        finally
        {
            _versions.Exit(version);
        }
    }

    /// <summary>
    /// Searches at the published version: only slots visible at it are returned (a filter inside the index search,
    /// combined with the metadata filter, so k results come back whenever k match). Waits for no write.
    /// </summary>
    public List<SearchResult> Search(ReadOnlySpan<float> query, int k, VectorSearchOptions options)
    {
        long version = _versions.Enter();
        try
        {
            MetadataFilter? filter = options.Filter;
            bool readsId = ReadsId(filter);
            var indexOptions = new SearchOptions
            {
                Ef = options.Ef,
                Exact = options.Exact,
                Filter = filter is null
                    ? slot => VisibleAt(slot, version)
                    : slot => VisibleAt(slot, version) && filter.Matches(readsId ? _ids.Get(slot) : null, _metadata.At(slot)!),
            };
            IReadOnlyList<SearchHit> hits = Index.Search(query, k, indexOptions);
            var results = new List<SearchResult>(hits.Count);
            foreach (SearchHit hit in hits)
            {
                results.Add(new SearchResult(_ids.Get(hit.Id)!, Options.Metric.ToScore(hit.Distance), _metadata.At(hit.Id)!));
            }

            return results;
        }
        finally
        {
            _versions.Exit(version);
        }
    }

    public void Dispose() => Index.Dispose();

    /// <summary>
    /// Whether <paramref name="slot"/> holds a record visible at <paramref name="version"/>. visibleUntil is read
    /// first: a slot being reused is hidden (visibleFrom = max) before its visibleUntil is rewritten.
    /// </summary>
    internal bool VisibleAt(int slot, long version) =>
        Volatile.Read(ref _visibleUntil.At(slot)) > version && Volatile.Read(ref _visibleFrom.At(slot)) <= version;

    /// <summary>
    /// The record in <paramref name="slot"/>, its vector copied into <paramref name="buffer"/> (the dimension's
    /// floats, reused by the caller: the record is valid until the next call; empty: the vector is not read, as for a
    /// checkpoint whose index snapshot holds the vectors). A checkpoint's read: the slot is visible at the capture's
    /// version, which holds back its removal and reuse.
    /// </summary>
    /// <remarks>Allocates nothing: a checkpoint reads every record this way while writers go on.</remarks>
    internal FrozenMetadata RecordAt(int slot, Span<float> buffer, out ReadOnlySpan<char> id)
    {
        if (!buffer.IsEmpty)
        {
            CopyVector(slot, buffer);
        }

        id = _ids.Span(slot);
        return _metadata.At(slot)!;
    }

    /// <summary>
    /// Whether <paramref name="filter"/> has a condition on the record's id (has_id): only then is a slot's id
    /// materialised as a string for it (a filter without one reads no id, so null stands in).
    /// </summary>
    internal static bool ReadsId(MetadataFilter? filter) => filter switch
    {
        null => false,
        MetadataFilter.HasIdFilter => true,
        MetadataFilter.AndFilter and => and.Operands.Any(ReadsId),
        MetadataFilter.OrFilter or => or.Operands.Any(ReadsId),
        MetadataFilter.NotFilter not => ReadsId(not.Inner),
        MetadataFilter.AtLeastFilter atLeast => atLeast.Operands.Any(ReadsId),
        _ => false,
    };

    /// <summary>A copy of the vector in a slot the caller sees (visible at its version, or in the catalog under its lock).</summary>
    private float[] VectorOf(int slot)
    {
        var vector = new float[Options.Dimension];
        CopyVector(slot, vector);
        return vector;
    }

    private void CopyVector(int slot, Span<float> destination)
    {
        if (_vectors is null)
        {
            Index.CopyVector(slot, destination);
        }
        else
        {
            _vectors.Get(slot).Span.CopyTo(destination);
        }
    }

    /// <summary>Ends a capture's read.</summary>
    internal void EndCapture(long version) => _versions.Exit(version);

    private void Retire(int slot, long version)
    {
        Volatile.Write(ref _visibleUntil.At(slot), version);
        _retired.Enqueue((slot, version));
    }

    private void EnsureSlot(int slot)
    {
        _ids.EnsureSlot(slot);
        _metadata.EnsureSlot(slot);
        _visibleFrom.EnsureSlot(slot);
        _visibleUntil.EnsureSlot(slot);
        _vectors?.EnsureSlot(slot);
    }
}
