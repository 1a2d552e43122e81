namespace OxiVec.Wal;

/// <summary>
/// Settings of a write-ahead log, read once when the log is opened. Every setter validates its value and
/// names the property in the exception; <see cref="Validate"/> checks the rules that span several properties.
/// </summary>
/// <remarks>
/// Defaults follow the OxiRS Vec guide: a 1 GB WAL budget, an fsync every second, a checkpoint every 10,000
/// operations. The ready-made profiles (<see cref="MaximumDurability"/>, <see cref="Balanced"/>,
/// <see cref="HighThroughput"/>, <see cref="Development"/>) are the rows of the guide's Quick Reference table.
/// </remarks>
public sealed record WalConfig
{
    private readonly string _walDir = "wal";
    private readonly long _maxWalSize = 1_000_000_000;
    private readonly int _syncIntervalMs = 1000;
    private readonly int _checkpointInterval = 10_000;
    private readonly int _compressionThresholdAgeHours = 24;
    private readonly long _segmentSizeBytes = 64L << 20;
    private readonly RotationPolicy _rotationPolicy = RotationPolicy.SizeBased;
    private readonly RetentionPolicy _retentionPolicy = RetentionPolicy.KeepLast(7);
    private readonly int _commitDelayMicros = 300;
    private readonly int _commitSiblings = 5;

    /// <summary>The smallest allowed <see cref="SegmentSizeBytes"/> (64 KiB).</summary>
    public const long MinSegmentSizeBytes = 64 << 10;

    /// <summary>The largest allowed <see cref="SegmentSizeBytes"/> (1 GiB).</summary>
    public const long MaxSegmentSizeBytes = 1L << 30;

    /// <summary>The directory holding the segment files. The default is <c>wal</c> (relative to the working directory).</summary>
    public string WalDir
    {
        get => _walDir;
        init
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(value, nameof(WalDir));
            _walDir = value;
        }
    }

    /// <summary>
    /// The budget for live WAL not yet covered by a checkpoint, in bytes. The health check warns at 80% and
    /// reports critical at 90%. The default is 1 GB (1,000,000,000 bytes).
    /// </summary>
    public long MaxWalSize
    {
        get => _maxWalSize;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, MinSegmentSizeBytes, nameof(MaxWalSize));
            _maxWalSize = value;
        }
    }

    /// <summary>
    /// How often the log is fsynced, in milliseconds. <c>0</c> means every commit is fsynced before it is
    /// acknowledged (concurrent commits share one fsync: group commit). With a positive interval a commit is
    /// acknowledged once the operating system holds it, so a process crash loses nothing, and a power loss
    /// loses at most the last interval. The default is 1000.
    /// </summary>
    public int SyncIntervalMs
    {
        get => _syncIntervalMs;
        init
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value, nameof(SyncIntervalMs));
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, 3_600_000, nameof(SyncIntervalMs));
            _syncIntervalMs = value;
        }
    }

    /// <summary>
    /// The longest an fsync waits for more commits to join it, in microseconds (PostgreSQL's <c>commit_delay</c>,
    /// made adaptive). It applies to commits that wait for an fsync (<see cref="SyncIntervalMs"/> = 0, and explicit
    /// syncs), and only when the previous fsync acknowledged at least <see cref="CommitSiblings"/> commits: the
    /// syncer then sleeps until as many commits have joined its batch as the previous fsync saw (the commit that
    /// completes the batch wakes it), so with steady writers it rarely waits the whole delay. It never waits longer
    /// than a recent fsync took (a moving average), since a longer wait costs more disk time than the batch saves. A
    /// lone writer never waits. <c>0</c> turns the delay off (each fsync then covers whatever arrived while the
    /// previous one ran). The delay never acknowledges anything early: a commit still returns only after an fsync
    /// covering it completed. The default is 300 (about one fsync of an SSD); allowed from 0 to 1,000,000.
    /// </summary>
    public int CommitDelayMicros
    {
        get => _commitDelayMicros;
        init
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value, nameof(CommitDelayMicros));
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, 1_000_000, nameof(CommitDelayMicros));
            _commitDelayMicros = value;
        }
    }

    /// <summary>
    /// How many commits the previous fsync must have acknowledged for the next one to wait up to
    /// <see cref="CommitDelayMicros"/> for its batch to fill (PostgreSQL's <c>commit_siblings</c>). The default is 5;
    /// allowed from 1 to 1,000.
    /// </summary>
    public int CommitSiblings
    {
        get => _commitSiblings;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1, nameof(CommitSiblings));
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, 1_000, nameof(CommitSiblings));
            _commitSiblings = value;
        }
    }

    /// <summary>
    /// Operations between automatic checkpoints. The default is 10,000. Automatic checkpoints are also paced: after
    /// one that took <i>d</i>, the next waits at least 4<i>d</i>, so writing checkpoints of a large store takes at
    /// most about a fifth of the time whatever the interval (a checkpoint due because the WAL reached 80% of
    /// <see cref="MaxWalSize"/> is not delayed; <c>VectorDatabase.Checkpoint()</c> never is).
    /// </summary>
    public int CheckpointInterval
    {
        get => _checkpointInterval;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1, nameof(CheckpointInterval));
            _checkpointInterval = value;
        }
    }

    /// <summary>
    /// Whether the active, preallocated segment is written through a shared memory mapping (Linux only; elsewhere, or
    /// when the file system refuses fallocate or mmap, segments are written with pwrite). A write of up to 8 KiB (a
    /// commit of a few records) is then a copy into the page cache with no system call, as safe against a process
    /// crash as pwrite and covered by the same fdatasync; larger writes still use pwrite, which costs less than the
    /// page faults of a copy over many fresh pages. The default follows the sync policy: true when
    /// <see cref="SyncIntervalMs"/> is above 0, false when it is 0. With an fsync before every acknowledgement the
    /// mapping costs more than it saves: to write back a page that is mapped writable Linux write-protects it first (a
    /// TLB flush on every core running the process), so each fsync takes longer. Measured on ext4 over a virtio disk
    /// (2026-12-05, 3 alternating runs of 3 s each): 1 writer 7.9-8.2k commits/s mapped against 8.4-9.8k written,
    /// 8 writers 19-30k against 29-34k, 32 writers 66-77k against 75-84k. Set it to override the default.
    /// </summary>
    public bool MemoryMappedSegments
    {
        get => _memoryMappedSegments ?? SyncIntervalMs > 0;
        init => _memoryMappedSegments = value;
    }

    private readonly bool? _memoryMappedSegments;

    /// <summary>Whether sealed segments older than <see cref="CompressionThresholdAgeHours"/> are compressed. The default is false.</summary>
    public bool EnableCompression { get; init; }

    /// <summary>Age in hours after which a sealed segment may be compressed. The default is 24.</summary>
    public int CompressionThresholdAgeHours
    {
        get => _compressionThresholdAgeHours;
        init
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value, nameof(CompressionThresholdAgeHours));
            _compressionThresholdAgeHours = value;
        }
    }

    /// <summary>When a new segment is started. The default is <see cref="RotationPolicy.SizeBased"/>.</summary>
    public RotationPolicy RotationPolicy
    {
        get => _rotationPolicy;
        init => _rotationPolicy = value ?? throw new ArgumentNullException(nameof(RotationPolicy));
    }

    /// <summary>Which checkpoints (and the WAL they need) are kept. The default is <c>KeepLast(7)</c>.</summary>
    public RetentionPolicy RetentionPolicy
    {
        get => _retentionPolicy;
        init => _retentionPolicy = value ?? throw new ArgumentNullException(nameof(RetentionPolicy));
    }

    /// <summary>
    /// Whether the log may be shipped to standbys: a <c>WalReplicator</c> attaches only to a database opened with it
    /// (and then its slots keep the WAL its standbys need). The default is false.
    /// </summary>
    public bool EnableReplication { get; init; }

    /// <summary>
    /// The size of one segment file, the unit of rotation, preallocation and cleanup. A single record must fit
    /// in one segment. The default is 64 MiB; allowed from 64 KiB to 1 GiB.
    /// </summary>
    public long SegmentSizeBytes
    {
        get => _segmentSizeBytes;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, MinSegmentSizeBytes, nameof(SegmentSizeBytes));
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, MaxSegmentSizeBytes, nameof(SegmentSizeBytes));
            _segmentSizeBytes = value;
        }
    }

    /// <summary>
    /// Whether new segment files are preallocated (reserved on disk before use, so appends never extend the
    /// file). The default is true.
    /// </summary>
    public bool PreallocateSegments { get; init; } = true;

    /// <summary>
    /// Whether each next segment (prepared in the background while the current one fills) is written full of zeros
    /// before it is used, so that commits overwrite initialised blocks instead of writing into merely reserved space.
    /// The default is false. Zero-filling costs one extra write of every segment; whether it pays depends on the disk
    /// and the number of writers waiting on each fsync, so measure before turning it on. On the project's reference
    /// machine (ext4 on a virtio disk, SyncIntervalMs = 0, docs/architecture.md) it made commits about 3x slower with
    /// one writer and 2x slower with 8, and 4-16 % faster with 32 writers sharing each fsync. Needs
    /// <see cref="PreallocateSegments"/> (only preallocated segments are prepared ahead).
    /// </summary>
    public bool ZeroFillSegments { get; init; }

    /// <summary>The guide's defaults (1 GB budget, fsync every second, checkpoint every 10,000 operations).</summary>
    public static WalConfig Default { get; } = new();

    /// <summary>Maximum durability: fsync before every acknowledgement, checkpoint every 1,000 operations.</summary>
    public static WalConfig MaximumDurability { get; } = new() { SyncIntervalMs = 0, CheckpointInterval = 1_000 };

    /// <summary>Balanced production profile: fsync every 100 ms, checkpoint every 10,000 operations.</summary>
    public static WalConfig Balanced { get; } = new() { SyncIntervalMs = 100, CheckpointInterval = 10_000 };

    /// <summary>High throughput: fsync every second, checkpoint every 100,000 operations.</summary>
    public static WalConfig HighThroughput { get; } = new() { SyncIntervalMs = 1_000, CheckpointInterval = 100_000 };

    /// <summary>
    /// Development: fsync every 10 seconds, checkpoint every 100,000 operations.
    /// Warning: a power loss may lose the last 10 seconds of acknowledged writes.
    /// </summary>
    public static WalConfig Development { get; } = new() { SyncIntervalMs = 10_000, CheckpointInterval = 100_000 };

    /// <summary>Checks the rules that involve more than one property.</summary>
    /// <exception cref="ArgumentException">A property conflicts with another; the message names both.</exception>
    public void Validate()
    {
        if (ZeroFillSegments && !PreallocateSegments)
        {
            throw new ArgumentException(
                "ZeroFillSegments needs PreallocateSegments: only preallocated segments are prepared (and zero-filled) ahead of use.",
                nameof(ZeroFillSegments));
        }

        if (MaxWalSize < SegmentSizeBytes)
        {
            throw new ArgumentException(
                $"MaxWalSize ({MaxWalSize} bytes) must be at least SegmentSizeBytes ({SegmentSizeBytes} bytes).",
                nameof(MaxWalSize));
        }
    }
}
