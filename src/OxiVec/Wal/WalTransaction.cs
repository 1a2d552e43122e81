namespace OxiVec.Wal;

/// <summary>
/// A group of entries written as one atomic unit: <see cref="Commit"/> appends a begin record, the entries and a
/// commit record in one contiguous write with one fsync. Readers (and recovery) apply the entries only when the
/// commit record is present, so after a crash either all of them count or none. Disposing without committing
/// rolls back: nothing was written.
/// </summary>
/// <remarks>Not thread safe: one thread builds and commits a transaction.</remarks>
public sealed class WalTransaction : IDisposable
{
    private readonly WalManager _owner;
    private readonly List<WalEntry> _entries = [];
    private State _state;

    internal WalTransaction(WalManager owner) => _owner = owner;

    private enum State
    {
        Open,
        Committed,
        RolledBack,
    }

    /// <summary>Entries added so far.</summary>
    public int Count => _entries.Count;

    /// <summary>Adds an entry (not a transaction marker).</summary>
    /// <exception cref="InvalidOperationException">The transaction was committed or rolled back.</exception>
    public void Add(WalEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ThrowIfNotOpen();
        if (entry.Type is WalRecordType.TransactionBegin or WalRecordType.TransactionCommit or WalRecordType.TransactionAbort)
        {
            throw new ArgumentException($"A {entry.Type} entry cannot be added to a transaction; it writes its own markers.", nameof(entry));
        }

        _entries.Add(entry);
    }

    /// <summary>Adds an insert (the guide's <c>transaction.log_insert</c>).</summary>
    public void LogInsert(string collection, string id, ReadOnlyMemory<float> vector, ReadOnlyMemory<byte> metadata = default) =>
        Add(new WalEntry.Insert(collection, id, vector, metadata));

    /// <summary>Adds an update.</summary>
    public void LogUpdate(string collection, string id, ReadOnlyMemory<float> vector, ReadOnlyMemory<byte> metadata = default) =>
        Add(new WalEntry.Update(collection, id, vector, metadata));

    /// <summary>Adds a delete.</summary>
    public void LogDelete(string collection, string id) => Add(new WalEntry.Delete(collection, id));

    /// <summary>Adds an application-defined operation.</summary>
    public void LogCustom(string operation, ReadOnlyMemory<byte> payload) => Add(new WalEntry.Custom(operation, payload));

    /// <summary>
    /// Writes the transaction and waits as the sync policy says (with <see cref="WalConfig.SyncIntervalMs"/> = 0,
    /// until it is fsynced). Returns the LSN of the commit record; the members have the <see cref="Count"/> LSNs
    /// before it. An empty transaction writes nothing and returns the WAL's last LSN.
    /// </summary>
    /// <exception cref="ArgumentException">An entry cannot be logged (too large, bad field); nothing is written and the transaction stays open.</exception>
    /// <exception cref="WalFailedException">The WAL has failed; the transaction may or may not be durable.</exception>
    public long Commit()
    {
        ThrowIfNotOpen();
        long lsn = _entries.Count == 0 ? _owner.LastLsn : _owner.AppendBatch(_entries, transactional: true);
        _state = State.Committed;
        return lsn;
    }

    /// <summary>Asynchronous <see cref="Commit"/>; cancellation abandons the wait for durability, not the write.</summary>
    public async ValueTask<long> CommitAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfNotOpen();
        long lsn = _entries.Count == 0
            ? _owner.LastLsn
            : await _owner.AppendBatchAsync(_entries, transactional: true, cancellationToken).ConfigureAwait(false);
        _state = State.Committed;
        return lsn;
    }

    /// <summary>Discards the entries; nothing is written.</summary>
    public void Rollback()
    {
        ThrowIfNotOpen();
        _entries.Clear();
        _state = State.RolledBack;
    }

    /// <summary>Rolls back when not committed.</summary>
    public void Dispose()
    {
        if (_state == State.Open)
        {
            Rollback();
        }
    }

    private void ThrowIfNotOpen()
    {
        if (_state != State.Open)
        {
            throw new InvalidOperationException($"The transaction is already {(_state == State.Committed ? "committed" : "rolled back")}.");
        }
    }
}
