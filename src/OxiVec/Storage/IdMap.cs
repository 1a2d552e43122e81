namespace OxiVec.Storage;

/// <summary>
/// A map from record id (ordinal) to slot that holds no reference: an entry is the id's hash and its slot, and the key
/// is read from the slot's cell in the collection's <see cref="IdColumn"/>. So an insert stores no reference into the
/// map's long-lived arrays (no card for the collector to follow, no id kept alive by the map; see <see cref="IdColumn"/>).
/// The ids are split over <see cref="IdPartitions.Count"/> open-addressing tables (linear probing, deletion by
/// backward shift), so a write rehashes at most one of them, about 1/256 of the ids.
/// </summary>
/// <remarks>
/// The caller's invariant: the slot of every entry holds the entry's id in the column, so a slot's id is written
/// before it is added (<see cref="Set"/>, <see cref="TryAdd"/>) and not rewritten while an entry has it. Not
/// thread-safe: the owner synchronises access.
/// </remarks>
internal sealed class IdMap(IdColumn ids)
{
    private readonly Entry[]?[] _partitions = new Entry[]?[IdPartitions.Count];
    private readonly int[] _counts = new int[IdPartitions.Count];
    private int _capacityHint;

    /// <summary>The number of ids.</summary>
    public int Count { get; private set; }

    /// <summary>Sizes the partitions for <paramref name="total"/> ids (those already created grow to it now).</summary>
    public void EnsureCapacity(int total)
    {
        _capacityHint = Math.Max(_capacityHint, IdPartitions.CapacityFor(total));
        for (int p = 0; p < _partitions.Length; p++)
        {
            if (_partitions[p] is { } table && TableSize(_capacityHint) > table.Length)
            {
                _partitions[p] = Rehash(table, TableSize(_capacityHint));
            }
        }
    }

    /// <summary>The slot of <paramref name="id"/>, when it is there.</summary>
    public bool TryGetValue(string id, out int slot)
    {
        int hash = Hash(id);
        Entry[]? table = _partitions[IdPartitions.OfHash(hash)];
        int i = table is null ? -1 : Find(table, hash, id);
        slot = i < 0 ? 0 : table![i].Slot - 1;
        return i >= 0;
    }

    /// <summary>Whether <paramref name="id"/> is there.</summary>
    public bool ContainsKey(string id) => TryGetValue(id, out _);

    /// <summary>Adds <paramref name="id"/> or replaces its slot (<paramref name="slot"/> holds <paramref name="id"/> in the column).</summary>
    public void Set(string id, int slot) => Put(id, slot, replace: true);

    /// <summary>Adds <paramref name="id"/>; false (and nothing changed) when it is there already.</summary>
    public bool TryAdd(string id, int slot) => Put(id, slot, replace: false);

    /// <summary>Removes <paramref name="id"/>, returning its slot; false when it is not there.</summary>
    public bool Remove(string id, out int slot)
    {
        int hash = Hash(id);
        int p = IdPartitions.OfHash(hash);
        Entry[]? table = _partitions[p];
        int i = table is null ? -1 : Find(table, hash, id);
        if (i < 0)
        {
            slot = 0;
            return false;
        }

        slot = table![i].Slot - 1;
        // Backward shift: move later entries of the probe run into the hole when their home is not between it and them.
        int mask = table.Length - 1;
        int hole = i;
        for (int j = (hole + 1) & mask; table[j].Slot != 0; j = (j + 1) & mask)
        {
            int home = table[j].Hash & mask;
            if (((j - home) & mask) >= ((j - hole) & mask))
            {
                table[hole] = table[j];
                hole = j;
            }
        }

        table[hole] = default;
        _counts[p]--;
        Count--;
        return true;
    }

    /// <summary>Every id, in no particular order.</summary>
    public List<string> Keys()
    {
        var keys = new List<string>(Count);
        foreach (Entry[]? table in _partitions)
        {
            if (table is null)
            {
                continue;
            }

            foreach (Entry e in table)
            {
                if (e.Slot != 0)
                {
                    keys.Add(ids.Get(e.Slot - 1)!);
                }
            }
        }

        return keys;
    }

    private static int Hash(string id) => StringComparer.Ordinal.GetHashCode(id);

    /// <summary>A power of two at least 4/3 of <paramref name="capacity"/> (load at most 3/4), at least 8.</summary>
    private static int TableSize(int capacity)
    {
        long needed = Math.Max(8, (capacity * 4L / 3) + 1);
        return (int)Math.Min(1 << 30, (long)System.Numerics.BitOperations.RoundUpToPowerOf2((ulong)needed));
    }

    private static Entry[] Rehash(Entry[] table, int size)
    {
        var grown = new Entry[size];
        int mask = size - 1;
        foreach (Entry e in table)
        {
            if (e.Slot != 0)
            {
                int j = e.Hash & mask;
                while (grown[j].Slot != 0)
                {
                    j = (j + 1) & mask;
                }

                grown[j] = e;
            }
        }

        return grown;
    }

    private int Find(Entry[] table, int hash, string id)
    {
        int mask = table.Length - 1;
        for (int i = hash & mask; table[i].Slot != 0; i = (i + 1) & mask)
        {
            if (table[i].Hash == hash && ids.Span(table[i].Slot - 1).SequenceEqual(id))
            {
                return i;
            }
        }

        return -1;
    }

    private bool Put(string id, int slot, bool replace)
    {
        int hash = Hash(id);
        int p = IdPartitions.OfHash(hash);
        Entry[] table = _partitions[p] ??= new Entry[TableSize(_capacityHint)];
        int found = Find(table, hash, id);
        if (found >= 0)
        {
            if (replace)
            {
                table[found].Slot = slot + 1;
            }

            return replace;
        }

        if ((_counts[p] + 1) * 4L > table.Length * 3L)
        {
            table = _partitions[p] = Rehash(table, table.Length * 2);
        }

        int mask = table.Length - 1;
        int i = hash & mask;
        while (table[i].Slot != 0)
        {
            i = (i + 1) & mask;
        }

        table[i] = new Entry { Hash = hash, Slot = slot + 1 };
        _counts[p]++;
        Count++;
        return true;
    }

    /// <summary>An id's hash and its slot plus one (0: an empty entry).</summary>
    private struct Entry
    {
        public int Hash;
        public int Slot;
    }
}
