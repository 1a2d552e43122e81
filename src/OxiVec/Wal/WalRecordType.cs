namespace OxiVec.Wal;

/// <summary>The kind of a WAL record; stored as one byte in the record header.</summary>
public enum WalRecordType : byte
{
    /// <summary>A new vector.</summary>
    Insert = 1,

    /// <summary>A replaced vector and/or metadata.</summary>
    Update = 2,

    /// <summary>A removed vector.</summary>
    Delete = 3,

    /// <summary>A checkpoint marker: the state up to an LSN is persisted elsewhere.</summary>
    Checkpoint = 4,

    /// <summary>An application-defined operation.</summary>
    Custom = 5,

    /// <summary>Opens a transaction; its members follow contiguously.</summary>
    TransactionBegin = 6,

    /// <summary>Commits the open transaction: its members count from here on.</summary>
    TransactionCommit = 7,

    /// <summary>Discards the open transaction.</summary>
    TransactionAbort = 8,

    /// <summary>Prepares a global transaction (two-phase commit): a gid and its writes, encoded by the storage layer; nothing applied yet.</summary>
    PrepareTransaction = 9,

    /// <summary>Commits the prepared global transaction named by its gid: its writes count from here on.</summary>
    CommitPrepared = 10,

    /// <summary>Rolls back the global transaction named by its gid (prepared, or not known: presumed abort).</summary>
    RollbackPrepared = 11,
}

/// <summary>Per-record flags; stored as one byte in the record header.</summary>
[Flags]
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1711", Justification = "They are the record header's flag bits.")]
public enum WalRecordFlags : byte
{
    /// <summary>No flags.</summary>
    None = 0,

    /// <summary>The record belongs to the transaction opened by the preceding <see cref="WalRecordType.TransactionBegin"/>.</summary>
    TransactionMember = 1,
}
