using Microsoft.Extensions.Logging;
using OxiVec.Storage;

namespace OxiVec.Replication;

/// <summary>
/// The standby side: owns a standby database in a data directory, takes a base backup when the directory is empty
/// or the primary says so, then streams the primary's WAL into its own WAL (same LSNs, checksums verified),
/// fsyncs per its policy, applies, and reports progress; reconnects with backoff.
/// CONTRACT SKELETON (branch repl-base): the engine helper implements it; signatures may grow, not change meaning.
/// </summary>
public sealed class StandbyReceiver : IAsyncDisposable
{
    /// <summary>Prepares a standby in <paramref name="dataDirectory"/>; nothing is opened until <see cref="StartAsync"/>.</summary>
    /// <param name="dataDirectory">The standby's data directory (empty or a standby's; a primary's is refused).</param>
    /// <param name="options">Database options (the WAL's sync policy applies to replicated records).</param>
    /// <param name="name">This standby's name.</param>
    /// <param name="connect">Opens a replication stream to the primary.</param>
    /// <param name="baseBackup">Fetches a base backup from the primary.</param>
    /// <param name="loggerFactory">Logging.</param>
    public StandbyReceiver(
        string dataDirectory, VectorDatabaseOptions options, string name, ReplicationConnector<StandbyMessage, PrimaryMessage> connect,
        IBaseBackupSource baseBackup, ILoggerFactory? loggerFactory = null) => throw new NotImplementedException();

    /// <summary>
    /// Opens the standby database (after a base backup when the directory is empty), then streams in the background
    /// until disposed. Completes once the database is open and readable.
    /// </summary>
    public Task StartAsync(CancellationToken cancellationToken) => throw new NotImplementedException();

    /// <summary>The open standby database (read-only for callers). A base backup replaces it: read it per use.</summary>
    public VectorDatabase Database => throw new NotImplementedException();

    /// <summary>The highest epoch seen (persisted), the primary's positions, and this standby's written, flushed and applied LSNs.</summary>
    public StandbyReceiverStatus Status => throw new NotImplementedException();

    /// <summary>Waits until the standby has applied <paramref name="lsn"/> (read-your-writes); false on timeout.</summary>
    public ValueTask<bool> WaitForAppliedAsync(long lsn, TimeSpan timeout, CancellationToken cancellationToken) => throw new NotImplementedException();

    /// <summary>Stops streaming and closes the database.</summary>
    public ValueTask DisposeAsync() => throw new NotImplementedException();
}

/// <summary>A standby's state, as one consistent value.</summary>
/// <param name="Connected">Whether a stream to the primary is open.</param>
/// <param name="Epoch">The highest epoch seen (persisted).</param>
/// <param name="WrittenLsn">Written to this standby's WAL.</param>
/// <param name="FlushedLsn">Durable in this standby's WAL.</param>
/// <param name="AppliedLsn">Visible to reads here.</param>
/// <param name="PrimaryLastLsn">The primary's newest LSN, as last reported.</param>
/// <param name="LastError">The last stream failure, or null.</param>
public sealed record StandbyReceiverStatus(bool Connected, long Epoch, long WrittenLsn, long FlushedLsn, long AppliedLsn, long PrimaryLastLsn, string? LastError);
