namespace OxiVec.Transactions;

/// <summary>Where a global transaction id (gid) stands on one participant.</summary>
public enum PreparedTransactionState
{
    /// <summary>Prepared and in doubt: durable, its records reserved, waiting for commit or rollback.</summary>
    Prepared,

    /// <summary>Committed: its writes are applied.</summary>
    Committed,

    /// <summary>Rolled back (or presumed aborted): its writes were discarded.</summary>
    RolledBack,

    /// <summary>Never seen by this participant.</summary>
    Unknown,
}
