namespace OxiVec.Storage;

/// <summary>
/// The ids of one logical collection that logged writes touched and that may not be applied yet: for each, whether the
/// newest logged write left the record existing, and its LSN. Together with the applied collection it is the logical
/// id set: an id found here is as its newest logged write left it; any other id is as the applied store holds it
/// (every write that touched it is applied). So the database keeps no second set of every id beside the collection's
/// own catalog, only the few writes in flight.
/// </summary>
/// <remarks>
/// An entry may go once the applied LSN has reached it (<see cref="Record"/> passes the applied LSN): the applied store
/// then holds its effect, and no newer write touched the id (it would have replaced the entry). With one writer every
/// write is applied before the next is resolved, so the table holds one entry at a time. Not thread-safe: guarded by
/// the database's write lock, like the rest of the logical state.
/// </remarks>
internal sealed class UnappliedIds
{
    /// <summary>Entries below which the table is never searched for applied entries to drop (beyond the drop of all at once).</summary>
    private const int PruneFloor = 1024;

    /// <summary>A table emptied with more entries than this is replaced, not cleared: clearing costs its whole capacity.</summary>
    private const int ReplaceAbove = 64;

    private Dictionary<string, (bool Exists, long Lsn)> _latest = new(StringComparer.Ordinal);

    // The only entry, while there is at most one (the table is then empty): one writer's writes, each applied before
    // the next is logged, never hash an id or touch the table. Null when there is none or the table holds them all.
    private string? _oneId;
    private bool _oneExists;

    private long _newestLsn;
    private int _pruneAt = PruneFloor;

    /// <summary>Entries held (tests).</summary>
    public int Count => _latest.Count + (_oneId is null ? 0 : 1);

    /// <summary>
    /// Whether the newest logged write of <paramref name="id"/> still held here left the record existing
    /// (<paramref name="exists"/>); false when no write of it is held (the applied store then knows).
    /// </summary>
    public bool TryGet(string id, out bool exists)
    {
        if (_oneId is not null)
        {
            bool held = string.Equals(_oneId, id, StringComparison.Ordinal);
            exists = held && _oneExists;
            return held;
        }

        if (_latest.Count != 0 && _latest.TryGetValue(id, out (bool Exists, long Lsn) entry))
        {
            exists = entry.Exists;
            return true;
        }

        exists = false;
        return false;
    }

    /// <summary>
    /// Records that the write logged at <paramref name="lsn"/> left <paramref name="id"/> existing or not; first drops
    /// the entries the applied LSN (<paramref name="appliedLsn"/>) has reached: all at once when it has reached the
    /// newest, otherwise in a sweep whenever the table has doubled since the last.
    /// </summary>
    public void Record(string id, bool exists, long lsn, long appliedLsn)
    {
        if (_newestLsn <= appliedLsn)
        {
            DropAll(); // every entry is applied (nothing to do when there is none)
        }

        if (_latest.Count == 0)
        {
            if (_oneId is null || string.Equals(_oneId, id, StringComparison.Ordinal))
            {
                _oneId = id;
                _oneExists = exists;
                _newestLsn = Math.Max(_newestLsn, lsn);
                return;
            }

            // A second id while the first is unapplied: both go to the table (the one entry's LSN is at most the
            // newest, and is only compared with applied LSNs, so it is kept as the newest: dropped no earlier).
            _latest[_oneId] = (_oneExists, _newestLsn);
            _oneId = null;
        }
        else if (_latest.Count >= _pruneAt)
        {
            RemoveApplied(appliedLsn);
            _pruneAt = Math.Max(PruneFloor, 2 * _latest.Count);
        }

        _latest[id] = (exists, lsn);
        _newestLsn = Math.Max(_newestLsn, lsn);
    }

    /// <summary>Forgets every entry.</summary>
    private void DropAll()
    {
        _oneId = null;
        int count = _latest.Count;
        if (count > ReplaceAbove)
        {
            _latest = new Dictionary<string, (bool Exists, long Lsn)>(StringComparer.Ordinal);
        }
        else if (count != 0)
        {
            _latest.Clear();
        }
    }

    /// <summary>Removes the entries whose LSN is at or below <paramref name="appliedLsn"/>.</summary>
    private void RemoveApplied(long appliedLsn)
    {
        foreach (KeyValuePair<string, (bool Exists, long Lsn)> entry in _latest)
        {
            if (entry.Value.Lsn <= appliedLsn)
            {
                _latest.Remove(entry.Key); // removing the current entry while enumerating is allowed
            }
        }
    }
}
