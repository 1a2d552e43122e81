using OxiVec.Storage;

namespace OxiVec.Hosting.Qdrant;

/// <summary>
/// The points one update request has changed so far, over the database's state: the operations of a batch apply in
/// order, each seeing the ones before it, and the request's net effect is staged as one write per changed point.
/// </summary>
/// <remarks>Used by one request, under <see cref="PointLocks"/> for every point it reads or writes.</remarks>
internal sealed class PointOverlay(VectorDatabase database, string collection)
{
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    /// <summary>The points this request has read or written.</summary>
    public IEnumerable<string> Touched => _entries.Keys;

    /// <summary>The point as this request sees it, or null when it does not exist.</summary>
    public Point? Get(string id)
    {
        if (!_entries.TryGetValue(id, out Entry? entry))
        {
            VectorRecord? stored = database.Get(collection, id);
            Point? point = stored is null ? null : new Point(stored.Vector.ToArray(), new Dictionary<string, MetadataValue>(stored.Metadata, StringComparer.Ordinal));
            entry = new Entry(stored is not null, point, Changed: false);
            _entries[id] = entry;
        }

        return entry.Current;
    }

    /// <summary>Makes <paramref name="id"/> hold <paramref name="point"/>.</summary>
    public void Put(string id, Point point) =>
        _entries[id] = new Entry(_entries.TryGetValue(id, out Entry? entry) ? entry.Existed : null, point, Changed: true);

    /// <summary>Removes <paramref name="id"/> (nothing when it does not exist).</summary>
    public void Remove(string id)
    {
        if (Get(id) is null)
        {
            return;
        }

        Entry entry = _entries[id];
        bool existed = entry.Existed ?? database.Get(collection, id) is not null; // written blind earlier in this request
        _entries[id] = new Entry(existed, null, Changed: true);
    }

    /// <summary>Stages the net effect: an upsert per point written, a delete per stored point removed.</summary>
    public void Stage(VectorTransaction transaction)
    {
        foreach ((string id, Entry entry) in _entries)
        {
            if (!entry.Changed)
            {
                continue;
            }

            if (entry.Current is { } point)
            {
                transaction.Upsert(collection, id, point.Vector, point.Payload);
            }
            else if (entry.Existed == true)
            {
                transaction.Delete(collection, id);
            }
        }
    }

    /// <summary>A point's vector and payload (this request's own copies).</summary>
    internal sealed record Point(float[] Vector, Dictionary<string, MetadataValue> Payload);

    /// <summary>Existed: whether the database held the point before this request (null: not read, a blind upsert).</summary>
    private sealed record Entry(bool? Existed, Point? Current, bool Changed);
}
