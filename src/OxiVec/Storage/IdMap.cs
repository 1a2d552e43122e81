namespace OxiVec.Storage;

/// <summary>
/// A map from record id (ordinal) to slot that never rehashes more than a small part of itself on one write: the ids
/// are split over <see cref="IdPartitions.Count"/> dictionaries (<see cref="IdPartitions"/>), each created when its
/// first id arrives. Not thread-safe: the owner synchronises access.
/// </summary>
internal sealed class IdMap
{
    private readonly Dictionary<string, int>?[] _partitions = new Dictionary<string, int>?[IdPartitions.Count];
    private int _capacityHint;

    /// <summary>The number of ids.</summary>
    public int Count { get; private set; }

    /// <summary>Sizes the partitions for <paramref name="total"/> ids (those already created grow to it now).</summary>
    public void EnsureCapacity(int total)
    {
        _capacityHint = Math.Max(_capacityHint, IdPartitions.CapacityFor(total));
        foreach (Dictionary<string, int>? partition in _partitions)
        {
            partition?.EnsureCapacity(_capacityHint);
        }
    }

    /// <summary>The slot of <paramref name="id"/>, when it is there.</summary>
    public bool TryGetValue(string id, out int slot)
    {
        Dictionary<string, int>? partition = _partitions[IdPartitions.Of(id)];
        if (partition is null)
        {
            slot = 0;
            return false;
        }

        return partition.TryGetValue(id, out slot);
    }

    /// <summary>Whether <paramref name="id"/> is there.</summary>
    public bool ContainsKey(string id) => _partitions[IdPartitions.Of(id)]?.ContainsKey(id) ?? false;

    /// <summary>Adds <paramref name="id"/> or replaces its slot.</summary>
    public void Set(string id, int slot)
    {
        Dictionary<string, int> partition = Partition(id);
        int before = partition.Count;
        partition[id] = slot;
        Count += partition.Count - before;
    }

    /// <summary>Adds <paramref name="id"/>; false (and nothing changed) when it is there already.</summary>
    public bool TryAdd(string id, int slot)
    {
        if (!Partition(id).TryAdd(id, slot))
        {
            return false;
        }

        Count++;
        return true;
    }

    /// <summary>Removes <paramref name="id"/>, returning its slot; false when it is not there.</summary>
    public bool Remove(string id, out int slot)
    {
        Dictionary<string, int>? partition = _partitions[IdPartitions.Of(id)];
        if (partition is null || !partition.Remove(id, out slot))
        {
            slot = 0;
            return false;
        }

        Count--;
        return true;
    }

    /// <summary>Every id, in no particular order.</summary>
    public List<string> Keys()
    {
        var keys = new List<string>(Count);
        foreach (Dictionary<string, int>? partition in _partitions)
        {
            if (partition is not null)
            {
                keys.AddRange(partition.Keys);
            }
        }

        return keys;
    }

    private Dictionary<string, int> Partition(string id)
    {
        ref Dictionary<string, int>? partition = ref _partitions[IdPartitions.Of(id)];
        return partition ??= new Dictionary<string, int>(_capacityHint, StringComparer.Ordinal);
    }
}
