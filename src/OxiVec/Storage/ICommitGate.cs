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
}
