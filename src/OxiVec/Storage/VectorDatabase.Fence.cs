namespace OxiVec.Storage;

/// <summary>The write fence: a primary that may have lost its leadership neither logs new writes nor acknowledges logged ones.</summary>
public sealed partial class VectorDatabase
{
    private IWriteFence? _writeFence;

    /// <summary>
    /// The write fence, or null (the default: no check). Every write (insert, upsert, update, delete, batches,
    /// transactions, collection creation and drop; synchronous and asynchronous) asks it before appending to the WAL
    /// (refused: <see cref="FencedWriteException"/> with <see cref="FencedWriteException.CommittedLocally"/> false, nothing
    /// written) and again right before acknowledging, after the local sync and the standbys' confirmation (refused:
    /// the write stays in the WAL and applied, so the WAL and the index agree, and the caller gets
    /// <see cref="FencedWriteException"/> with <see cref="FencedWriteException.CommittedLocally"/> true). Set and read atomically.
    /// </summary>
    public IWriteFence? WriteFence
    {
        get => Volatile.Read(ref _writeFence);
        set => Volatile.Write(ref _writeFence, value);
    }

    /// <summary>Before a write is logged: throws when the fence refuses it (nothing is written).</summary>
    private void CheckFenceBeforeAppend()
    {
        if (Volatile.Read(ref _writeFence) is { } fence && fence.Check() is { } reason)
        {
            throw new FencedWriteException(DataDirectory, reason, committedLocally: false);
        }
    }

    /// <summary>Before a logged and applied write at <paramref name="lsn"/> is acknowledged: throws when the fence refuses it.</summary>
    private long CheckFenceBeforeAcknowledging(long lsn)
    {
        if (Volatile.Read(ref _writeFence) is { } fence && fence.Check() is { } reason)
        {
            throw new FencedWriteException(DataDirectory, reason, committedLocally: true, lsn);
        }

        return lsn;
    }
}
