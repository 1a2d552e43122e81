namespace OxiVec.Storage;

/// <summary>
/// What a commit waits for besides the local sync policy before it is applied and acknowledged: the synchronous
/// standbys' confirmation (see <c>WalReplicator</c>). Cancelling the wait never un-commits the write. An asynchronous
/// commit waits here first, with its local acknowledgement under way, then for the local policy (see
/// <c>VectorDatabase.WaitAcknowledgedAndConfirmedAsync</c>).
/// </summary>
internal interface ICommitGate
{
    /// <summary>Waits until the standbys the policy requires have confirmed <paramref name="lsn"/>.</summary>
    /// <exception cref="ObjectDisposedException">The replicator stopped (the write stays committed locally).</exception>
    /// <exception cref="OxiVec.Wal.WalFailedException">The primary's WAL failed: nothing more will be confirmed.</exception>
    Task WaitConfirmedAsync(long lsn);

    /// <summary>
    /// Waits until the standbys the policy requires have confirmed <paramref name="lsn"/> and the local WAL has made it
    /// durable (fsynced): one wake for both, by whichever comes last (while degraded, the local fsync alone).
    /// </summary>
    /// <exception cref="ObjectDisposedException">The replicator stopped (the write stays committed locally).</exception>
    /// <exception cref="OxiVec.Wal.WalFailedException">The primary's WAL failed: nothing more will be confirmed.</exception>
    Task WaitConfirmedAndDurableAsync(long lsn);

    /// <summary>
    /// Commits so far whose standbys confirmed them before the local WAL had fsynced them (their wait for both then
    /// ended at the local fsync): benchmarks watch how the two fsyncs overlap.
    /// </summary>
    long ConfirmedBeforeDurable { get; }
}
