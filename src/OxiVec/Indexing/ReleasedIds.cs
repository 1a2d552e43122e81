namespace OxiVec.Indexing;

/// <summary>
/// The ids an index released and the caller has not taken yet, in release order. Appending never changes an
/// element already there, and <see cref="Take"/> starts a new array, so a snapshot view holds
/// <see cref="Captured"/> (the array and its length) without copying and without any copy-on-write. Writers
/// synchronise access.
/// </summary>
internal sealed class ReleasedIds
{
    private int[] _ids = [];
    private int _count;

    /// <summary>How many ids are pending.</summary>
    public int Count => _count;

    /// <summary>The pending ids as they are now; they never change afterwards.</summary>
    public ReadOnlyMemory<int> Captured => _ids.AsMemory(0, _count);

    /// <summary>Appends a released id.</summary>
    public void Add(int id)
    {
        if (_count == _ids.Length)
        {
            // A new array: a view may hold the old one, whose elements must not change.
            int[] grown = new int[Math.Max(16, _ids.Length * 2)];
            _ids.AsSpan(0, _count).CopyTo(grown);
            _ids = grown;
        }

        _ids[_count++] = id;
    }

    /// <summary>Returns the pending ids and forgets them.</summary>
    public int[] Take()
    {
        int[] taken = _ids.AsSpan(0, _count).ToArray();
        _ids = [];
        _count = 0;
        return taken;
    }
}
