namespace OxiVec.Wal;

/// <summary>A snapshot of a WAL's figures (the guide's <c>WalMetrics</c>, plus percentiles and failure state).</summary>
public sealed record WalMetrics
{
    /// <summary>Bytes of live WAL on disk (records written, not preallocated space).</summary>
    public long CurrentSizeBytes { get; init; }

    /// <summary><see cref="CurrentSizeBytes"/> in MB (10^6 bytes), as the guide reports it.</summary>
    public double CurrentSizeMb => CurrentSizeBytes / 1e6;

    /// <summary>The configured <see cref="WalConfig.MaxWalSize"/>.</summary>
    public long MaxSizeBytes { get; init; }

    /// <summary><see cref="MaxSizeBytes"/> in MB (10^6 bytes).</summary>
    public double MaxSizeMb => MaxSizeBytes / 1e6;

    /// <summary>Records in the live WAL (last LSN minus first retained LSN plus one).</summary>
    public long TotalEntries { get; init; }

    /// <summary>Records appended since the WAL was opened.</summary>
    public long EntriesAppended { get; init; }

    /// <summary>Records appended per second over the last 10 seconds.</summary>
    public double WriteOpsPerSec { get; init; }

    /// <summary>Records appended per second over the last minute (the health check's current rate).</summary>
    public double RecentEntriesPerSec { get; init; }

    /// <summary>Records appended per second over the last hour, or since the open when younger (the rate baseline).</summary>
    public double BaselineEntriesPerSec { get; init; }

    /// <summary>Records appended in the baseline window.</summary>
    public long BaselineEntries { get; init; }

    /// <summary>How much time the baseline covers: an hour, or the time since the open when shorter.</summary>
    public TimeSpan BaselineSpan { get; init; }

    /// <summary>
    /// fsyncs in the recent window (the last minute, at most the newest 4,096) that the sync latencies describe;
    /// 0 means no samples: the sync latencies are then 0 and say nothing.
    /// </summary>
    public int SyncSamples { get; init; }

    /// <summary>Average time of one fsync over the recent window, in ms (0 without samples).</summary>
    public double AvgSyncLatencyMs { get; init; }

    /// <summary>99th percentile of the fsyncs of the recent window, in ms (0 without samples).</summary>
    public double P99SyncLatencyMs { get; init; }

    /// <summary>Average time of one fsync since the WAL was opened, in ms (0 without samples).</summary>
    public double LifetimeAvgSyncLatencyMs { get; init; }

    /// <summary>
    /// Acknowledged appends in the recent window (the last minute, at most the newest 4,096) that the write
    /// latencies describe; 0 means no samples.
    /// </summary>
    public int WriteSamples { get; init; }

    /// <summary>
    /// Average time from append to acknowledgement (write, and fsync when the policy waits for it) over the recent
    /// window, in ms (0 without samples).
    /// </summary>
    public double AvgWriteLatencyMs { get; init; }

    /// <summary>Median append-to-acknowledgement time of the recent window, in ms (0 without samples).</summary>
    public double P50WriteLatencyMs { get; init; }

    /// <summary>99th percentile append-to-acknowledgement time of the recent window, in ms (0 without samples).</summary>
    public double P99WriteLatencyMs { get; init; }

    /// <summary>Average append-to-acknowledgement time since the WAL was opened, in ms (0 without samples).</summary>
    public double LifetimeAvgWriteLatencyMs { get; init; }

    /// <summary>fsyncs performed since open; with group commit, far fewer than commits.</summary>
    public long SyncCount { get; init; }

    /// <summary>
    /// fsyncs since open that acknowledged at least one waiting commit (group commit: <c>SyncIntervalMs = 0</c>, or
    /// <see cref="WalManager.Sync"/> and <see cref="WalManager.FlushAsync"/>); interval fsyncs nobody waited for are
    /// not counted. Each is also recorded by the <c>oxivec.wal.sync.commits</c> histogram.
    /// </summary>
    public long CommitSyncs { get; init; }

    /// <summary>Average waiting commits one of the <see cref="CommitSyncs"/> acknowledged (0 without any).</summary>
    public double AvgCommitsPerSync { get; init; }

    /// <summary>
    /// The <see cref="CommitSyncs"/> by how many waiting commits each acknowledged, in power-of-two bars (1, 2, 3-4,
    /// 5-8, ..., 257 and more), empty bars included. A commit is one acknowledged append, transaction or explicit sync.
    /// </summary>
    public IReadOnlyList<WalCommitBatchBucket> CommitsPerSyncHistogram { get; init; } = [];

    /// <summary>Bytes written to segment files since open.</summary>
    public long BytesWritten { get; init; }

    /// <summary>
    /// Time since the last checkpoint record, or since the WAL was opened when there is none; measured on the
    /// monotonic clock within a process. Never negative: a checkpoint the wall clock dated in the future (it has
    /// stepped back since) counts as just written.
    /// </summary>
    public TimeSpan LastCheckpointAge { get; init; }

    /// <summary>
    /// Age of the oldest record logged after the newest checkpoint record; null when there is none (an idle
    /// database whose last record is its checkpoint). After a reopen, records found after the checkpoint count
    /// as old as the checkpoint (or, without one, from the open).
    /// </summary>
    public TimeSpan? OldestUncoveredRecordAge { get; init; }

    /// <summary>The newest LSN appended.</summary>
    public long LastLsn { get; init; }

    /// <summary>The newest LSN known to be on stable storage.</summary>
    public long DurableLsn { get; init; }

    /// <summary>Segment files in the directory.</summary>
    public int SegmentCount { get; init; }

    /// <summary>True when a write or fsync failed and the WAL refuses writes.</summary>
    public bool IsFailed { get; init; }

    /// <summary>
    /// Maintenance steps (segment compression) that failed since open other than by a failed fsync, for example on a
    /// full disk. The log stays whole and the next checkpoint tries again; each failure is logged as a warning.
    /// </summary>
    public long MaintenanceFailures { get; init; }

    /// <summary>
    /// Steps of the wall clock (by 1 s or more against the monotonic clock) seen since open, each logged as a
    /// warning. After a step back, record timestamps stay at the newest one until the wall clock catches up.
    /// </summary>
    public long ClockSteps { get; init; }
}
