namespace OxiVec.Storage;

/// <summary>
/// What a commit waits for after the local sync policy and before it is applied and acknowledged: the synchronous
/// standbys' confirmation (see <c>WalReplicator</c>). Cancelling the wait never un-commits the write.
/// </summary>
internal interface ICommitGate
{
    /// <summary>Waits until the standbys the policy requires have confirmed <paramref name="lsn"/>.</summary>
    /// <exception cref="ObjectDisposedException">The replicator stopped (the write stays committed locally).</exception>
    Task WaitConfirmedAsync(long lsn);
}
