namespace OxiVec.Storage;

/// <summary>
/// Exact-length float arrays the write path copies a caller's vector into and gets back once the write is applied
/// to the in-memory store (the collection and its index then hold their own copies). One per database. Arrays are
/// kept for one length at a time (a database's writes usually share a dimension); an array of another length
/// replaces the kept ones. A write that fails, or is applied by no one, just leaves its array to the GC.
/// </summary>
internal sealed class VectorCopyPool
{
    /// <summary>Arrays kept at most: enough for every writer thread to have one in flight.</summary>
    private const int MaxKept = 64;

    private readonly Lock _lock = new();
    private readonly float[][] _kept = new float[MaxKept][];
    private int _count;

    /// <summary>An array of exactly <paramref name="source"/>'s length holding a copy of it.</summary>
    public float[] Copy(ReadOnlySpan<float> source)
    {
        if (source.IsEmpty)
        {
            return [];
        }

        float[]? copy = null;
        lock (_lock)
        {
            if (_count > 0 && _kept[_count - 1].Length == source.Length)
            {
                copy = _kept[--_count];
                _kept[_count] = null!;
            }
        }

        copy ??= new float[source.Length];
        source.CopyTo(copy);
        return copy;
    }

    /// <summary>Takes back <paramref name="copy"/>: the caller guarantees nothing reads or writes it any more.</summary>
    public void Return(float[] copy)
    {
        if (copy.Length == 0)
        {
            return;
        }

        lock (_lock)
        {
            if (_count > 0 && _kept[0].Length != copy.Length)
            {
                Array.Clear(_kept, 0, _count); // a new dimension: the old length is no longer wanted
                _count = 0;
            }

            if (_count < MaxKept)
            {
                _kept[_count++] = copy;
            }
        }
    }
}
