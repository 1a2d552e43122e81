using Microsoft.Extensions.Logging;
using OxiVec.Storage;

namespace OxiVec.Replication;

/// <summary>
/// Ships a primary database's WAL to its standbys (the guide's <c>WalReplicator</c>): one sender per standby
/// stream, slots that keep the WAL a standby still needs, and the commit gate that holds acknowledgements until
/// the synchronous standbys have confirmed them (<see cref="ReplicationOptions.SynchronousStandbys"/>).
/// CONTRACT SKELETON (branch repl-base): the engine helper implements it; signatures may grow, not change meaning.
/// </summary>
public sealed class WalReplicator : IAsyncDisposable
{
    /// <summary>Starts replicating <paramref name="database"/>, which must be a primary (not opened as a standby).</summary>
    /// <param name="database">The primary database; its commits wait on this replicator from now on.</param>
    /// <param name="options">Synchronous set, ack level, slot cap, batch size.</param>
    /// <param name="epoch">The primary's epoch (only grows; persisted in the data directory: the larger of this and the stored one is used).</param>
    /// <param name="loggerFactory">Logging.</param>
    public WalReplicator(VectorDatabase database, ReplicationOptions options, long epoch = 1, ILoggerFactory? loggerFactory = null) =>
        throw new NotImplementedException();

    /// <summary>The epoch stamped on every batch.</summary>
    public long Epoch => throw new NotImplementedException();

    /// <summary>
    /// Push mode (the guide's add_standby): the primary dials the standby with <paramref name="connect"/> and keeps
    /// streaming to it, reconnecting with backoff, until disposed.
    /// </summary>
    public void AddStandby(string name, ReplicationConnector<PrimaryMessage, StandbyMessage> connect) => throw new NotImplementedException();

    /// <summary>Pull mode: serves one stream a standby opened (the server calls it per incoming stream); returns when it ends.</summary>
    public Task ServeStandbyAsync(IReplicationChannel<PrimaryMessage, StandbyMessage> channel, CancellationToken cancellationToken) =>
        throw new NotImplementedException();

    /// <summary>Serves a base backup: the newest checkpoint (pinned against retention while streamed), manifest first, then chunks.</summary>
    public Task ServeBaseBackupAsync(
        Func<BaseBackupManifest, CancellationToken, ValueTask> sendManifest, Func<BaseBackupChunk, CancellationToken, ValueTask> sendChunk,
        CancellationToken cancellationToken) => throw new NotImplementedException();

    /// <summary>Every standby's state and lag, as one consistent value.</summary>
    public ReplicationStatus GetStatus() => throw new NotImplementedException();

    /// <summary>Stops every stream; commits waiting for standbys fail with <see cref="ObjectDisposedException"/> (they stay committed locally).</summary>
    public ValueTask DisposeAsync() => throw new NotImplementedException();
}
