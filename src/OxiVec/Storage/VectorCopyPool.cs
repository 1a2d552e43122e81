namespace OxiVec.Storage;

/// <summary>
/// Exact-length float arrays the write path copies a caller's vector into and gets back once the write is applied
/// to the in-memory store (the collection and its index then hold their own copies). One per database. Arrays are
/// kept for one length at a time (a database's writes usually share a dimension); an array of another length
/// replaces the kept ones. A write that fails, or is applied by no one, just leaves its array to the GC.
/// </summary>
/// <remarks>
/// Each thread first keeps one array of its own (of at most <see cref="MaxThreadKeptLength"/> floats), shared by every
/// database's pool: a writer that applies its own write (one writer, or no writer ahead of it) takes its copy and
/// gives it back without a lock. An array is owned by one write at a time whichever list it sits in.
/// </remarks>
internal sealed class VectorCopyPool
{
    /// <summary>Arrays kept at most: enough for every writer thread to have one in flight.</summary>
    private const int MaxKept = 64;

    /// <summary>The longest array a thread keeps for itself (16 KiB): a thread keeps one however many databases it writes to.</summary>
    private const int MaxThreadKeptLength = 4096;

    [ThreadStatic]
    private static float[]? t_kept;

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

        float[]? copy = t_kept;
        if (copy is not null && copy.Length == source.Length)
        {
            t_kept = null;
            source.CopyTo(copy);
            return copy;
        }

        copy = null;
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

        if (copy.Length <= MaxThreadKeptLength && (t_kept is null || t_kept.Length != copy.Length))
        {
            t_kept = copy; // replaces an array of another length (a new dimension), as the shared list does
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
