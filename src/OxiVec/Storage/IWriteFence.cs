namespace OxiVec.Storage;

/// <summary>
/// Decides whether a primary may acknowledge writes now. A primary holding a leadership lease stops acknowledging
/// before the lease could have expired unrenewed (a monotonic clock and a safety margin), so that a new primary
/// elected after the expiry never overlaps with acknowledgements of the old one. See <see cref="VectorDatabase.WriteFence"/>.
/// </summary>
/// <remarks>Called on every write, twice (before the append and right before the acknowledgement), from any thread: keep it cheap and thread safe.</remarks>
public interface IWriteFence
{
    /// <summary>Null when writes may be acknowledged now; otherwise why not (e.g. "leadership lease expired at ...").</summary>
    string? Check();
}

/// <summary>
/// A write was refused by the database's <see cref="IWriteFence"/>: this node may no longer be the primary. When
/// <see cref="CommittedLocally"/> is false nothing was written; when it is true the write is in the local WAL and
/// applied locally but was NOT acknowledged: it may be lost, or rewound when this node rejoins as a standby.
/// </summary>
public sealed class FencedWriteException : InvalidOperationException
{
    /// <summary>Creates the exception for the database in <paramref name="dataDirectory"/>.</summary>
    /// <param name="dataDirectory">The database's data directory.</param>
    /// <param name="reason">What the fence said.</param>
    /// <param name="committedLocally">Whether the write is in the local WAL (the fence failed after it was logged).</param>
    /// <param name="lsn">The write's LSN when <paramref name="committedLocally"/>, else 0.</param>
    public FencedWriteException(string dataDirectory, string reason, bool committedLocally, long lsn = 0)
        : base(committedLocally
            ? $"The write at LSN {lsn} is in the local WAL of '{dataDirectory}' but was NOT acknowledged: the write fence failed before the acknowledgement ({reason}). It may be lost, or rewound if this node rejoins as a standby; treat it as unknown."
            : $"The write was refused by the write fence of '{dataDirectory}' and nothing was written: {reason}.")
    {
        Reason = reason;
        CommittedLocally = committedLocally;
        Lsn = lsn;
    }

    /// <summary>What the fence said.</summary>
    public string Reason { get; }

    /// <summary>Whether the write is in the local WAL (and applied locally) although it was not acknowledged.</summary>
    public bool CommittedLocally { get; }

    /// <summary>The write's LSN when <see cref="CommittedLocally"/>, else 0.</summary>
    public long Lsn { get; }
}
