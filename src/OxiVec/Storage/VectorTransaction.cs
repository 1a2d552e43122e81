namespace OxiVec.Storage;

/// <summary>
/// Writes to any number of collections applied all or nothing: validated together at commit, logged as one WAL
/// transaction (one fsync), applied together. Disposing without committing discards them.
/// </summary>
/// <remarks>Not thread safe: one thread builds and commits a transaction.</remarks>
public sealed class VectorTransaction : IDisposable
{
    private readonly VectorDatabase _database;
    private readonly List<PendingWrite> _writes = [];
    private bool _done;

    internal VectorTransaction(VectorDatabase database) => _database = database;

    /// <summary>Writes staged so far.</summary>
    public int Count => _writes.Count;

    internal IReadOnlyList<PendingWrite> Writes => _writes;

    /// <summary>Stages an insert (the id must not exist when the transaction commits).</summary>
    public void Insert(string collection, string id, ReadOnlyMemory<float> vector, IReadOnlyDictionary<string, MetadataValue>? metadata = null) =>
        Stage(new PendingWrite(WriteKind.Insert, collection, id, vector, metadata));

    /// <summary>Stages an insert-or-replace.</summary>
    public void Upsert(string collection, string id, ReadOnlyMemory<float> vector, IReadOnlyDictionary<string, MetadataValue>? metadata = null) =>
        Stage(new PendingWrite(WriteKind.Upsert, collection, id, vector, metadata));

    /// <summary>Stages a replacement (the id must exist when the transaction commits).</summary>
    public void Update(string collection, string id, ReadOnlyMemory<float> vector, IReadOnlyDictionary<string, MetadataValue>? metadata = null) =>
        Stage(new PendingWrite(WriteKind.Update, collection, id, vector, metadata));

    /// <summary>Stages a delete (the id must exist when the transaction commits).</summary>
    public void Delete(string collection, string id) =>
        Stage(new PendingWrite(WriteKind.Delete, collection, id, default, null));

    /// <summary>Validates, logs and applies every staged write, or none. Returns the commit LSN.</summary>
    /// <exception cref="ArgumentException">A write is invalid (dimension, NaN, id...); nothing is written.</exception>
    /// <exception cref="KeyNotFoundException">A collection or record does not exist; nothing is written.</exception>
    /// <exception cref="InvalidOperationException">An inserted id already exists; nothing is written.</exception>
    public long Commit()
    {
        ThrowIfDone();
        long lsn = _database.Write(_writes);
        _done = true;
        return lsn;
    }

    /// <summary>Asynchronous <see cref="Commit"/>.</summary>
    public async ValueTask<long> CommitAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfDone();
        long lsn = await _database.WriteAsync(_writes, cancellationToken).ConfigureAwait(false);
        _done = true;
        return lsn;
    }

    /// <summary>Discards the staged writes.</summary>
    public void Dispose()
    {
        _done = true;
        _writes.Clear();
    }

    private void Stage(PendingWrite write)
    {
        ThrowIfDone();
        _writes.Add(write);
    }

    private void ThrowIfDone()
    {
        if (_done)
        {
            throw new InvalidOperationException("The transaction was already committed or discarded.");
        }
    }
}

internal enum WriteKind
{
    Insert,
    Upsert,
    Update,
    Delete,
}

internal sealed record PendingWrite(
    WriteKind Kind, string Collection, string Id, ReadOnlyMemory<float> Vector, IReadOnlyDictionary<string, MetadataValue>? Metadata);
