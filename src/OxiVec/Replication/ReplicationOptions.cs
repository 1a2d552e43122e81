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

    /// <summary>Push mode (<see cref="WalReplicator.AddStandby"/>): the first delay before reconnecting; it doubles per failure. The default is 100 ms.</summary>
    public TimeSpan MinReconnectDelay { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Push mode: the longest delay before reconnecting. The default is 10 s.</summary>
    public TimeSpan MaxReconnectDelay { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Checks every setting; the message names the property.</summary>
    /// <exception cref="ArgumentException">A setting is out of range, or <see cref="SynchronousStandbys"/> does not parse (a <see cref="FormatException"/> inside).</exception>
    public void Validate()
    {
        if (MaxBatchBytes < 4096)
        {
            throw new ArgumentException($"MaxBatchBytes is {MaxBatchBytes}; it must be at least 4096.", nameof(MaxBatchBytes));
        }

        if (MaxSlotWalKeepBytes < 1)
        {
            throw new ArgumentException($"MaxSlotWalKeepBytes is {MaxSlotWalKeepBytes}; it must be positive.", nameof(MaxSlotWalKeepBytes));
        }

        if (KeepaliveInterval <= TimeSpan.Zero)
        {
            throw new ArgumentException($"KeepaliveInterval is {KeepaliveInterval}; it must be positive.", nameof(KeepaliveInterval));
        }

        if (MinReconnectDelay < TimeSpan.Zero || MaxReconnectDelay < MinReconnectDelay)
        {
            throw new ArgumentException(
                $"MinReconnectDelay ({MinReconnectDelay}) must be 0 or more and MaxReconnectDelay ({MaxReconnectDelay}) at least as long.", nameof(MinReconnectDelay));
        }

        if (!Enum.IsDefined(AckLevel) || !Enum.IsDefined(WhenTooFewStandbys))
        {
            throw new ArgumentException($"AckLevel ({AckLevel}) or WhenTooFewStandbys ({WhenTooFewStandbys}) is not a defined value.", nameof(AckLevel));
        }

        try
        {
            _ = SynchronousStandbyPolicy.Parse(SynchronousStandbys);
        }
        catch (FormatException ex)
        {
            throw new ArgumentException(ex.Message, nameof(SynchronousStandbys), ex);
        }
    }

    /// <summary>The delay before reconnect attempt number <paramref name="failures"/> (1 or more): doubling from the minimum, capped.</summary>
    internal static TimeSpan Backoff(TimeSpan min, TimeSpan max, int failures) =>
        failures <= 0 || min == TimeSpan.Zero ? min : TimeSpan.FromTicks((long)Math.Min(max.Ticks, min.Ticks * Math.Pow(2, Math.Min(failures - 1, 30))));
}
