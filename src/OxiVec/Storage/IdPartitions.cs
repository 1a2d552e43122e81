namespace OxiVec.Storage;

/// <summary>
/// How <see cref="IdMap"/> splits ids into partitions: a hash table that outgrows its
/// capacity rehashes every entry on the write that fills it (tens of milliseconds at a million ids), so the ids are
/// spread over <see cref="Count"/> small tables and a write rehashes at most one of them, about 1/256 of the ids.
/// </summary>
internal static class IdPartitions
{
    /// <summary>The number of partitions (a power of two).</summary>
    public const int Count = 256;

    /// <summary>The partition of <paramref name="id"/>: the top bits of its ordinal hash (the tables use the low ones).</summary>
    public static int Of(string id) => OfHash(StringComparer.Ordinal.GetHashCode(id));

    /// <summary>The partition of an id whose ordinal hash is <paramref name="hash"/>.</summary>
    public static int OfHash(int hash) => (int)((uint)hash >> 24);

    /// <summary>The capacity to give each partition for <paramref name="total"/> ids spread evenly, with some slack.</summary>
    public static int CapacityFor(int total) => total <= 0 ? 0 : (int)Math.Min(int.MaxValue, (total + (long)(total >> 3)) / Count + 16);
}
