namespace OxiVec.Replication;

/// <summary>A message a primary sends to a standby on a replication stream.</summary>
public abstract record PrimaryMessage;

/// <summary>
/// A run of consecutive WAL records, exactly as they are in the primary's log: <see cref="Frames"/> holds, per
/// record, the u32 salt of the segment it was written in followed by the record's 32-byte header (with its
/// CRC-32C), payload and padding (see docs/wal-format.md, "Replication frames"). The standby verifies every
/// checksum before writing anything.
/// </summary>
/// <param name="Epoch">The primary's epoch; a standby refuses a batch whose epoch is older than one it has seen.</param>
/// <param name="FirstLsn">The first record's LSN.</param>
/// <param name="LastLsn">The last record's LSN.</param>
/// <param name="Frames">The records' frames (at most about <see cref="ReplicationOptions.MaxBatchBytes"/>, or one record).</param>
/// <param name="PrimaryFlushedLsn">The newest LSN durable on the primary when the batch was sent.</param>
/// <param name="PrimaryLastLsn">The newest LSN written on the primary when the batch was sent.</param>
/// <param name="SentUnixMicros">When the batch was sent, by the primary's wall clock (for lag in milliseconds).</param>
public sealed record WalBatch(
    long Epoch, long FirstLsn, long LastLsn, ReadOnlyMemory<byte> Frames, long PrimaryFlushedLsn, long PrimaryLastLsn, long SentUnixMicros)
    : PrimaryMessage
{
    /// <summary>
    /// Whether a commit of the primary may wait for the standby's applied LSN (its ack level is remote apply). When
    /// false, a standby that fsyncs each batch reports it flushed before applying it (the apply is off the path of the
    /// primary's remote-flush commits) and its applied LSN reaches the primary with its next report. The default, true,
    /// is what a primary that does not say (an older version) gets: the report follows the apply.
    /// </summary>
    public bool ApplyAwaited { get; init; } = true;
}

/// <summary>Sent when there is nothing to ship for a while, so a standby can tell an idle primary from a dead one.</summary>
/// <param name="Epoch">The primary's epoch.</param>
/// <param name="PrimaryFlushedLsn">The newest LSN durable on the primary.</param>
/// <param name="PrimaryLastLsn">The newest LSN written on the primary.</param>
/// <param name="SentUnixMicros">When it was sent, by the primary's wall clock.</param>
public sealed record PrimaryKeepalive(long Epoch, long PrimaryFlushedLsn, long PrimaryLastLsn, long SentUnixMicros) : PrimaryMessage;

/// <summary>
/// The primary cannot stream from where the standby is (the WAL it needs was removed, its slot passed the byte
/// cap, or its log diverged): the standby must take a base backup. The stream ends after this message.
/// </summary>
/// <param name="Reason">Why, naming LSNs.</param>
public sealed record BaseBackupRequired(string Reason) : PrimaryMessage;

/// <summary>A message a standby sends to its primary on a replication stream.</summary>
public abstract record StandbyMessage;

/// <summary>The first message of a stream: who the standby is and where its log ends.</summary>
/// <param name="Name">The standby's name (unique per primary; names its slot and its place in the synchronous set).</param>
/// <param name="LastLsn">The last LSN in the standby's WAL (0 when empty); streaming resumes after it.</param>
/// <param name="LastRecordDigest">A digest of that record (LSN, timestamp, type, flags, payload); the primary
/// compares it with its own record at <paramref name="LastLsn"/> to detect a diverged log. 0 when <paramref name="LastLsn"/> is 0.</param>
/// <param name="Epoch">The highest epoch the standby has seen (persisted).</param>
public sealed record StandbyHello(string Name, long LastLsn, ulong LastRecordDigest, long Epoch) : StandbyMessage;

/// <summary>How far a standby has got: reported after every batch it wrote, flushed or applied.</summary>
/// <param name="WrittenLsn">Written to the standby's WAL (in the page cache).</param>
/// <param name="FlushedLsn">Durable on the standby (fsynced).</param>
/// <param name="AppliedLsn">Applied to the standby's store (visible to its reads).</param>
public sealed record StandbyProgress(long WrittenLsn, long FlushedLsn, long AppliedLsn) : StandbyMessage;

/// <summary>A piece of a base backup: the bytes of one file of the primary's newest checkpoint, in order.</summary>
/// <param name="RelativePath">The file's path relative to the checkpoint directory.</param>
/// <param name="Offset">Where <paramref name="Data"/> starts in the file.</param>
/// <param name="Data">The bytes.</param>
public sealed record BaseBackupChunk(string RelativePath, long Offset, ReadOnlyMemory<byte> Data);

/// <summary>What a base backup holds, sent before its chunks.</summary>
/// <param name="CheckpointName">The checkpoint directory's name (<c>{seq}-{lsn}</c>) on the primary.</param>
/// <param name="CoveredLsn">The LSN the checkpoint covers; the standby's WAL starts after it.</param>
/// <param name="Epoch">The primary's epoch.</param>
/// <param name="Files">Every file with its length, in the order their chunks follow.</param>
public sealed record BaseBackupManifest(string CheckpointName, long CoveredLsn, long Epoch, IReadOnlyList<BaseBackupFile> Files);

/// <summary>One file of a base backup.</summary>
/// <param name="RelativePath">Its path relative to the checkpoint directory.</param>
/// <param name="Length">Its length in bytes.</param>
public sealed record BaseBackupFile(string RelativePath, long Length);

/// <summary>
/// The standby's log holds records written under an older epoch past the point where this primary's history
/// branched off (<c>replication/history.json</c>): its records after <paramref name="KeepThroughLsn"/> are divergent.
/// The standby rewinds (quarantining them) to <paramref name="KeepThroughLsn"/> and reconnects. The stream ends after this message.
/// </summary>
/// <param name="Epoch">The epoch of this primary's history entry the standby's log runs past (it started at <paramref name="KeepThroughLsn"/> + 1).</param>
/// <param name="KeepThroughLsn">The last LSN the standby keeps: every record after it is discarded (quarantined).</param>
public sealed record WalDiverged(long Epoch, long KeepThroughLsn) : PrimaryMessage;
