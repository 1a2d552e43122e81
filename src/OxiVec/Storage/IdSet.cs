namespace OxiVec.Storage;

/// <summary>
/// A set of record ids (ordinal) that never rehashes more than a small part of itself on one write: the ids are split
/// over <see cref="IdPartitions.Count"/> hash sets (<see cref="IdPartitions"/>), each created when its first id
/// arrives. Not thread-safe: the owner synchronises access.
/// </summary>
internal sealed class IdSet
{
    private readonly HashSet<string>?[] _partitions = new HashSet<string>?[IdPartitions.Count];
    private int _capacityHint;

    /// <summary>The number of ids.</summary>
    public int Count { get; private set; }

    /// <summary>Sizes the partitions for <paramref name="total"/> ids (those already created grow to it now).</summary>
    public void EnsureCapacity(int total)
    {
        _capacityHint = Math.Max(_capacityHint, IdPartitions.CapacityFor(total));
        foreach (HashSet<string>? partition in _partitions)
        {
            partition?.EnsureCapacity(_capacityHint);
        }
    }

    /// <summary>Whether <paramref name="id"/> is in the set.</summary>
    public bool Contains(string id) => _partitions[IdPartitions.Of(id)]?.Contains(id) ?? false;

    /// <summary>Adds <paramref name="id"/>; false when it was there.</summary>
    public bool Add(string id)
    {
        ref HashSet<string>? partition = ref _partitions[IdPartitions.Of(id)];
        partition ??= new HashSet<string>(_capacityHint, StringComparer.Ordinal);
        if (!partition.Add(id))
        {
            return false;
        }

        Count++;
        return true;
    }

    /// <summary>Removes <paramref name="id"/>; false when it was not there.</summary>
    public bool Remove(string id)
    {
        HashSet<string>? partition = _partitions[IdPartitions.Of(id)];
        if (partition is null || !partition.Remove(id))
        {
            return false;
        }

        Count--;
        return true;
    }
}
