namespace OxiVec.Storage;

/// <summary>
/// Exact-length float arrays the write path copies a caller's vector into and gets back once the write is applied
/// to the in-memory store (the collection and its index then hold their own copies). One per database. Arrays are
/// kept for one length at a time (a database's writes usually share a dimension); an array of another length
/// replaces the kept ones. A write that fails, or is applied by no one, just leaves its array to the GC.
/// </summary>
/// <remarks>
/// The array given back last waits in a slot of its own, taken and filled with one atomic exchange each: a writer
/// that applies its own write (one writer, or no writer ahead of it) takes its copy and gives it back without the
/// lock. An array is owned by one write at a time wherever it is kept.
/// </remarks>
internal sealed class VectorCopyPool
{
    /// <summary>Arrays kept at most: enough for every writer thread to have one in flight.</summary>
    private const int MaxKept = 64;

    private readonly Lock _lock = new();
    private readonly float[][] _kept = new float[MaxKept][];
    private float[]? _last; // the array given back last, outside the lock (see the remarks)
    private int _count;

    /// <summary>An array of exactly <paramref name="source"/>'s length holding a copy of it.</summary>
    public float[] Copy(ReadOnlySpan<float> source)
    {
        if (source.IsEmpty)
        {
            return [];
        }

        float[]? copy = Volatile.Read(ref _last) is null ? null : Interlocked.Exchange(ref _last, null);
        if (copy is not null && copy.Length == source.Length)
        {
            source.CopyTo(copy);
            return copy;
        }

        copy = null; // another length: left to the GC, as the list drops arrays of a length no longer wanted
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

        if (Volatile.Read(ref _last) is null && Interlocked.CompareExchange(ref _last, copy, null) is null)
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
