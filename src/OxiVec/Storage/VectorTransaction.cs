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

    /// <summary>
    /// Stages an insert (the id must not exist when the transaction commits). The vector and metadata are copied
    /// now: changing or reusing them before the commit changes nothing staged.
    /// </summary>
    public void Insert(string collection, string id, ReadOnlyMemory<float> vector, IReadOnlyDictionary<string, MetadataValue>? metadata = null) =>
        Stage(PendingWrite.Accept(WriteKind.Insert, collection, id, vector, metadata));

    /// <summary>Stages an insert-or-replace.</summary>
    public void Upsert(string collection, string id, ReadOnlyMemory<float> vector, IReadOnlyDictionary<string, MetadataValue>? metadata = null) =>
        Stage(PendingWrite.Accept(WriteKind.Upsert, collection, id, vector, metadata));

    /// <summary>Stages a replacement (the id must exist when the transaction commits).</summary>
    public void Update(string collection, string id, ReadOnlyMemory<float> vector, IReadOnlyDictionary<string, MetadataValue>? metadata = null) =>
        Stage(PendingWrite.Accept(WriteKind.Update, collection, id, vector, metadata));

    /// <summary>Stages a delete (the id must exist when the transaction commits).</summary>
    public void Delete(string collection, string id) =>
        Stage(PendingWrite.Accept(WriteKind.Delete, collection, id, default, null));

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

/// <summary>
/// One write as accepted from the caller: the vector and metadata are private copies taken when the call accepted
/// them, so nothing the caller does afterwards reaches what is validated, logged, applied or read. A struct: a
/// single write allocates no object for it.
/// </summary>
internal readonly record struct PendingWrite
{
    private PendingWrite(WriteKind kind, string collection, string id, float[] vector, FrozenMetadata metadata, bool vectorIsLent = false)
    {
        Kind = kind;
        Collection = collection;
        Id = id;
        Vector = vector;
        Metadata = metadata;
        VectorIsLent = vectorIsLent;
    }

    public WriteKind Kind { get; }

    public string Collection { get; }

    public string Id { get; }

    /// <summary>The store's own copy (empty for a delete).</summary>
    public float[] Vector { get; }

    /// <summary>The store's own read-only copy (empty for a delete or no metadata).</summary>
    public FrozenMetadata Metadata { get; }

    /// <summary>
    /// True when <see cref="Vector"/> came from the database's <see cref="VectorCopyPool"/>: it goes back there once
    /// the write is applied, so nothing may keep it past the apply.
    /// </summary>
    public bool VectorIsLent { get; }

    /// <summary>Copies what the store keeps of a caller's write.</summary>
    public static PendingWrite Accept(
        WriteKind kind, string collection, string id, ReadOnlyMemory<float> vector, IReadOnlyDictionary<string, MetadataValue>? metadata) =>
        kind == WriteKind.Delete
            ? new(kind, collection, id, [], FrozenMetadata.None)
            : new(kind, collection, id, vector.ToArray(), FrozenMetadata.Of(metadata));

    /// <summary>
    /// <see cref="Accept"/> with the vector copied into an array of <paramref name="copies"/>, for a single write
    /// whose operations nothing keeps past the apply (not a prepared transaction's, which outlive it).
    /// </summary>
    public static PendingWrite AcceptLent(
        VectorCopyPool copies, WriteKind kind, string collection, string id, ReadOnlyMemory<float> vector, IReadOnlyDictionary<string, MetadataValue>? metadata) =>
        kind == WriteKind.Delete
            ? new(kind, collection, id, [], FrozenMetadata.None)
            : new(kind, collection, id, copies.Copy(vector.Span), FrozenMetadata.Of(metadata), vectorIsLent: true);
}
