namespace OxiVec.Recovery;

/// <summary>Settings of a <see cref="CrashRecoveryManager"/> (the guide's <c>RecoveryConfig</c>).</summary>
public sealed record RecoveryConfig
{
    private readonly string _dataDir = "data";
    private readonly int _maxRecoveryTimeMs = 60_000;

    /// <summary>The database's data directory (checkpoints live in <c>checkpoints/</c> under it).</summary>
    public required string DataDir
    {
        get => _dataDir;
        init
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(value, nameof(DataDir));
            _dataDir = value;
        }
    }

    /// <summary>The WAL directory; the default is <c>wal</c> under <see cref="DataDir"/>.</summary>
    public string? WalDir { get; init; }

    /// <summary>
    /// Whether record checksums are verified. Always true in effect: the format needs the checksums to find the
    /// end of the log, so setting false is accepted for compatibility with the guide and changes nothing.
    /// </summary>
    public bool VerifyChecksums { get; init; } = true;

    /// <summary>
    /// Recovery taking longer than this fails with a clear error (0: no limit): crash recovery in every phase (checkpoint
    /// load, index rebuild, replay), and point-in-time recovery as a whole (no target is created). The default is 60,000 ms.
    /// </summary>
    public int MaxRecoveryTimeMs
    {
        get => _maxRecoveryTimeMs;
        init
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value, nameof(MaxRecoveryTimeMs));
            _maxRecoveryTimeMs = value;
        }
    }

    /// <summary>Warning: loses data. Pass over damaged WAL records instead of failing. The default is false.</summary>
    public bool SkipCorruptedEntries { get; init; }

    private readonly int _parallelism = Math.Max(1, Environment.ProcessorCount);

    /// <summary>WAL segments read and checksummed in parallel ahead of the replay. The default is the number of processors.</summary>
    public int Parallelism
    {
        get => _parallelism;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1, nameof(Parallelism));
            _parallelism = value;
        }
    }
}

/// <summary>A point to recover to: an LSN or a UTC time, both inclusive.</summary>
public sealed record RecoveryTarget
{
    private RecoveryTarget(long? lsn, DateTimeOffset? time)
    {
        Lsn = lsn;
        Time = time;
    }

    /// <summary>The last LSN to include, when the target is an LSN.</summary>
    public long? Lsn { get; }

    /// <summary>The latest record time to include, when the target is a time.</summary>
    public DateTimeOffset? Time { get; }

    /// <summary>Everything up to and including <paramref name="lsn"/>.</summary>
    public static RecoveryTarget ToLsn(long lsn)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(lsn);
        return new RecoveryTarget(lsn, null);
    }

    /// <summary>Everything logged at or before <paramref name="time"/>.</summary>
    public static RecoveryTarget ToTime(DateTimeOffset time) => new(null, time.ToUniversalTime());

    /// <inheritdoc/>
    public override string ToString() => Lsn is { } lsn ? $"LSN {lsn}" : $"time {Time:O}";
}
