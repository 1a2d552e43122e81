namespace OxiVec.Storage;

/// <summary>Scans of a collection at one published version: pages in id order, counts and id lists.</summary>
internal sealed partial class Collection
{
    /// <summary>
    /// The records matching <paramref name="filter"/> with an id at or after <paramref name="fromId"/> in
    /// <see cref="RecordIdOrder"/>, the first <paramref name="limit"/> of them in that order, as of the published
    /// version (no lock writers wait for). O(n log limit): a bounded heap, not a sort of every record.
    /// </summary>
    public List<VectorRecord> Scroll(MetadataFilter? filter, string? fromId, int limit)
    {
        long version = _versions.Enter();
        try
        {
            List<int> slots = SmallestMatching(version, filter, fromId, limit);
            var records = new List<VectorRecord>(slots.Count);
            foreach (int slot in slots)
            {
                records.Add(new VectorRecord(_ids.Get(slot)!, VectorOf(slot), _metadata.At(slot)!));
            }

            return records;
        }
        finally
        {
            _versions.Exit(version);
        }
    }

    /// <summary>The ids of the first <paramref name="max"/> records matching <paramref name="filter"/> in <see cref="RecordIdOrder"/>, at the published version.</summary>
    public List<string> FindIds(MetadataFilter? filter, int max)
    {
        long version = _versions.Enter();
        try
        {
            List<int> slots = SmallestMatching(version, filter, fromId: null, max);
            return slots.ConvertAll(slot => _ids.Get(slot)!);
        }
        finally
        {
            _versions.Exit(version);
        }
    }

    /// <summary>The number of records matching <paramref name="filter"/> at the published version (exact).</summary>
    public long CountMatching(MetadataFilter? filter)
    {
        long version = _versions.Enter();
        try
        {
            long count = 0;
            bool readsId = ReadsId(filter);
            int highWater = Volatile.Read(ref _highWater);
            for (int slot = 0; slot < highWater; slot++)
            {
                if (VisibleAt(slot, version) && Accepts(filter, readsId, slot))
                {
                    count++;
                }
            }

            return count;
        }
        finally
        {
            _versions.Exit(version);
        }
    }

    /// <summary>Whether the record in a visible <paramref name="slot"/> satisfies <paramref name="filter"/> (null: every record).</summary>
    private bool Accepts(MetadataFilter? filter, bool readsId, int slot) => filter is null || filter.Matches(readsId ? _ids.Get(slot) : null, _metadata.At(slot)!);

    /// <summary>
    /// The slots of the <paramref name="limit"/> smallest matching ids at or after <paramref name="fromId"/>, in
    /// ascending id order. The heap keeps the largest kept id on top so a smaller one replaces it in O(log limit).
    /// </summary>
    private List<int> SmallestMatching(long version, MetadataFilter? filter, string? fromId, int limit)
    {
        RecordIdOrder order = RecordIdOrder.Instance;
        var largestFirst = Comparer<string>.Create((a, b) => order.Compare(b, a));
        var heap = new PriorityQueue<int, string>(Math.Min(limit, 1024), largestFirst);
        bool readsId = ReadsId(filter);
        int highWater = Volatile.Read(ref _highWater);
        for (int slot = 0; slot < highWater; slot++)
        {
            if (!VisibleAt(slot, version))
            {
                continue;
            }

            // Compared in place: a string only for an id the heap keeps.
            ReadOnlySpan<char> span = _ids.Span(slot);
            if ((fromId is not null && RecordIdOrder.Compare(span, fromId) < 0)
                || (heap.Count == limit && heap.TryPeek(out _, out string? largest) && RecordIdOrder.Compare(span, largest) >= 0)
                || !Accepts(filter, readsId, slot))
            {
                continue;
            }

            string id = _ids.Get(slot)!;

            if (heap.Count < limit)
            {
                heap.Enqueue(slot, id);
            }
            else
            {
                heap.EnqueueDequeue(slot, id);
            }
        }

        var slots = new List<int>(heap.Count);
        while (heap.TryDequeue(out int slot, out _))
        {
            slots.Add(slot);
        }

        slots.Reverse(); // dequeued largest first
        return slots;
    }
}
