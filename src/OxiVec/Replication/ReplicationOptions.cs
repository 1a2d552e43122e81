namespace OxiVec.Replication;

/// <summary>How far a standby must have got before it counts for a commit (PostgreSQL's synchronous_commit levels).</summary>
public enum ReplicationAckLevel
{
    /// <summary>Written to the standby's WAL (its page cache): survives a primary crash, not a standby power loss.</summary>
    RemoteWrite,

    /// <summary>fsynced on the standby.</summary>
    RemoteFlush,

    /// <summary>fsynced and applied on the standby: visible to reads there.</summary>
    RemoteApply,
}

/// <summary>What a synchronous commit does when fewer standbys than it needs are connected.</summary>
public enum TooFewStandbysBehavior
{
    /// <summary>Wait (the default): commits are logged and durable locally but not acknowledged until enough standbys confirm.</summary>
    Block,

    /// <summary>Acknowledge with the local policy alone, log a warning and count it in a metric, until enough standbys are back.</summary>
    DegradeToAsync,
}

/// <summary>The primary's replication settings (PostgreSQL's synchronous_standby_names and synchronous_commit, per primary).</summary>
public sealed record ReplicationOptions
{
    /// <summary>
    /// Which standbys a commit waits for: null or empty for asynchronous replication; <c>FIRST n (a, b, ...)</c> for the
    /// first n connected standbys in the listed priority order; <c>ANY n (a, b, ...)</c> for any n of those listed.
    /// </summary>
    public string? SynchronousStandbys { get; init; }

    /// <summary>How far the required standbys must have got. The default is <see cref="ReplicationAckLevel.RemoteFlush"/>.</summary>
    public ReplicationAckLevel AckLevel { get; init; } = ReplicationAckLevel.RemoteFlush;

    /// <summary>When too few standbys are connected. The default is <see cref="TooFewStandbysBehavior.Block"/>.</summary>
    public TooFewStandbysBehavior WhenTooFewStandbys { get; init; } = TooFewStandbysBehavior.Block;

    /// <summary>
    /// The most WAL kept for a standby's slot (PostgreSQL's max_slot_wal_keep_size); a standby further behind loses
    /// its slot and needs a base backup. The default is 1 GiB.
    /// </summary>
    public long MaxSlotWalKeepBytes { get; init; } = 1L << 30;

    /// <summary>The most record bytes in one batch (a single larger record is sent alone). The default is 1 MiB.</summary>
    public int MaxBatchBytes { get; init; } = 1 << 20;

    /// <summary>How long a stream may be idle before a keepalive is sent. The default is 1 s.</summary>
    public TimeSpan KeepaliveInterval { get; init; } = TimeSpan.FromSeconds(1);
}
