using OxiVec.Indexing;

namespace OxiVec.Storage;

/// <summary>
/// The applied (acknowledged) state of one collection: the index, the original vectors in a contiguous arena,
/// ids and metadata by slot. Mutations come only from the database's ordered apply step; reads run concurrently.
/// </summary>
internal sealed class Collection : IDisposable
{
    private static readonly IReadOnlyDictionary<string, MetadataValue> NoMetadata = new Dictionary<string, MetadataValue>();

    private readonly ReaderWriterLockSlim _lock = new(LockRecursionPolicy.NoRecursion);
    private readonly Dictionary<string, int> _slots = new(StringComparer.Ordinal);
    private readonly List<string?> _ids = [];
    private readonly List<IReadOnlyDictionary<string, MetadataValue>?> _metadata = [];
    private readonly Stack<int> _free = new();
    private readonly VectorArena _vectors;

    public Collection(string name, CollectionOptions options)
    {
        Name = name;
        Options = options;
        _vectors = new VectorArena(options.Dimension);
        Index = options.Index == IndexKind.Flat
            ? new FlatIndex(options.Dimension, options.Metric)
            : new HnswIndex(options.Dimension, options.Metric, options.Hnsw);
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

    /// <summary>Inserts or replaces <paramref name="id"/> (idempotent, as replay requires).</summary>
    public void Upsert(string id, ReadOnlySpan<float> vector, IReadOnlyDictionary<string, MetadataValue> metadata)
    {
        _lock.EnterWriteLock();
        try
        {
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
            _metadata[slot] = metadata.Count == 0 ? NoMetadata : metadata;
            _slots[id] = slot;
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    /// <summary>Removes <paramref name="id"/>; false when it is not there (replay is idempotent).</summary>
    public bool Delete(string id)
    {
        _lock.EnterWriteLock();
        try
        {
            if (!_slots.TryGetValue(id, out int slot))
            {
                return false;
            }

            RemoveSlotLocked(id, slot);
            return true;
        }
        finally
        {
            _lock.ExitWriteLock();
        }
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
