namespace OxiVec.Wal;

/// <summary>
/// One logged operation, as the OxiRS Vec guide's <c>WalEntry</c>: the nested records are the kinds of entry.
/// <see cref="Lsn"/> and <see cref="Timestamp"/> are assigned by the WAL when the entry is appended and are
/// filled in on entries read back.
/// </summary>
public abstract record WalEntry
{
    private protected WalEntry()
    {
    }

    /// <summary>The log sequence number: 1 for the first record ever written, then +1 per record.</summary>
    public long Lsn { get; init; }

    /// <summary>When the record was appended (UTC, microsecond resolution).</summary>
    public DateTimeOffset Timestamp { get; init; }

    /// <summary>The record type this entry is stored as.</summary>
    public abstract WalRecordType Type { get; }

    /// <summary>A vector added to a collection.</summary>
    /// <param name="Collection">The collection name.</param>
    /// <param name="Id">The record id.</param>
    /// <param name="Vector">The vector, stored as little-endian float32.</param>
    /// <param name="Metadata">Encoded metadata (opaque to the WAL); empty when there is none.</param>
    public sealed record Insert(string Collection, string Id, ReadOnlyMemory<float> Vector, ReadOnlyMemory<byte> Metadata)
        : WalEntry
    {
        /// <inheritdoc/>
        public override WalRecordType Type => WalRecordType.Insert;
    }

    /// <summary>A vector (and its metadata) replaced.</summary>
    /// <param name="Collection">The collection name.</param>
    /// <param name="Id">The record id.</param>
    /// <param name="Vector">The new vector.</param>
    /// <param name="Metadata">The new encoded metadata.</param>
    public sealed record Update(string Collection, string Id, ReadOnlyMemory<float> Vector, ReadOnlyMemory<byte> Metadata)
        : WalEntry
    {
        /// <inheritdoc/>
        public override WalRecordType Type => WalRecordType.Update;
    }

    /// <summary>A vector removed.</summary>
    /// <param name="Collection">The collection name.</param>
    /// <param name="Id">The record id.</param>
    public sealed record Delete(string Collection, string Id) : WalEntry
    {
        /// <inheritdoc/>
        public override WalRecordType Type => WalRecordType.Delete;
    }

    /// <summary>The state up to and including <paramref name="CoveredLsn"/> has been persisted.</summary>
    /// <param name="Sequence">The checkpoint's sequence number (1, 2, ...).</param>
    /// <param name="CoveredLsn">The last LSN the checkpoint contains.</param>
    public sealed record Checkpoint(long Sequence, long CoveredLsn) : WalEntry
    {
        /// <inheritdoc/>
        public override WalRecordType Type => WalRecordType.Checkpoint;
    }

    /// <summary>An application-defined operation, replayed to the application as it was logged.</summary>
    /// <param name="Operation">A name for the operation (at most 65,535 UTF-8 bytes).</param>
    /// <param name="Payload">The operation's bytes.</param>
    public sealed record Custom(string Operation, ReadOnlyMemory<byte> Payload) : WalEntry
    {
        /// <inheritdoc/>
        public override WalRecordType Type => WalRecordType.Custom;
    }

    /// <summary>Opens a transaction of <paramref name="EntryCount"/> members, which follow it contiguously.</summary>
    /// <param name="EntryCount">How many member records follow.</param>
    public sealed record TransactionBegin(int EntryCount) : WalEntry
    {
        /// <inheritdoc/>
        public override WalRecordType Type => WalRecordType.TransactionBegin;
    }

    /// <summary>Commits the transaction opened at <paramref name="BeginLsn"/>.</summary>
    /// <param name="BeginLsn">The LSN of the transaction's begin record (its id).</param>
    /// <param name="EntryCount">How many members it has.</param>
    public sealed record TransactionCommit(long BeginLsn, int EntryCount) : WalEntry
    {
        /// <inheritdoc/>
        public override WalRecordType Type => WalRecordType.TransactionCommit;
    }

    /// <summary>Discards the transaction opened at <paramref name="BeginLsn"/> (0 when not known).</summary>
    /// <param name="BeginLsn">The LSN of the transaction's begin record.</param>
    public sealed record TransactionAbort(long BeginLsn) : WalEntry
    {
        /// <inheritdoc/>
        public override WalRecordType Type => WalRecordType.TransactionAbort;
    }

    /// <summary>Prepares the global transaction <paramref name="Gid"/> (two-phase commit); its writes apply only at a <see cref="CommitPrepared"/>.</summary>
    /// <param name="Gid">The global transaction id.</param>
    /// <param name="Payload">The prepared writes and their details, encoded by the storage layer (opaque to the WAL).</param>
    public sealed record PrepareTransaction(string Gid, ReadOnlyMemory<byte> Payload) : WalEntry
    {
        /// <inheritdoc/>
        public override WalRecordType Type => WalRecordType.PrepareTransaction;
    }

    /// <summary>Commits the prepared global transaction <paramref name="Gid"/>.</summary>
    /// <param name="Gid">The global transaction id.</param>
    public sealed record CommitPrepared(string Gid) : WalEntry
    {
        /// <inheritdoc/>
        public override WalRecordType Type => WalRecordType.CommitPrepared;
    }

    /// <summary>Rolls back the global transaction <paramref name="Gid"/> (prepared or not).</summary>
    /// <param name="Gid">The global transaction id.</param>
    public sealed record RollbackPrepared(string Gid) : WalEntry
    {
        /// <inheritdoc/>
        public override WalRecordType Type => WalRecordType.RollbackPrepared;
    }
}
