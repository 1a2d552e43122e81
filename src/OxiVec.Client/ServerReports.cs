namespace OxiVec.Client;

// The answers of OxiVec's own endpoints (/oxivec/*), as the server writes them (snake_case JSON, durations in
// seconds unless the name says otherwise). Field by field they are the server's CheckpointInfo, WalMetrics,
// WalHealthReport and RecoveryStats; docs/server.md describes them.

/// <summary>The answer of <c>POST /oxivec/checkpoint</c>: the checkpoint written.</summary>
public sealed record CheckpointResult(
    long Sequence, long CoveredLsn, long Bytes, long DurationMs, double WriteStallMs, string Path, DateTimeOffset Created,
    int SegmentsRemoved, int SegmentsCompressed);

/// <summary>One bar of the group-commit histogram: fsyncs that acknowledged between <paramref name="MinCommits"/> and <paramref name="MaxCommits"/> commits.</summary>
public sealed record CommitBatchBucket(int MinCommits, int MaxCommits, long Syncs);

/// <summary>The answer of <c>GET /oxivec/wal/metrics</c>: the server's WAL figures.</summary>
public sealed record WalMetricsReport(
    long CurrentSizeBytes, long MaxSizeBytes, long TotalEntries, long EntriesAppended, double WriteOpsPerSec,
    double RecentEntriesPerSec, double BaselineEntriesPerSec, long BaselineEntries, double BaselineSpanSeconds,
    int SyncSamples, double AvgSyncLatencyMs, double P99SyncLatencyMs, double LifetimeAvgSyncLatencyMs,
    int WriteSamples, double AvgWriteLatencyMs, double P50WriteLatencyMs, double P99WriteLatencyMs, double LifetimeAvgWriteLatencyMs,
    long SyncCount, long CommitSyncs, double AvgCommitsPerSync, IReadOnlyList<CommitBatchBucket> CommitsPerSyncHistogram,
    long BytesWritten, double LastCheckpointAgeSeconds, double? OldestUncoveredRecordAgeSeconds, long LastLsn, long DurableLsn,
    int SegmentCount, bool IsFailed, long MaintenanceFailures, long ClockSteps);

/// <summary>The answer of <c>GET /oxivec/wal/health</c>: <paramref name="Status"/> is <c>healthy</c>, <c>warning</c> or <c>critical</c>.</summary>
public sealed record WalHealthResult(string Status, IReadOnlyList<string> Findings, IReadOnlyList<string> NotJudged, WalMetricsReport Metrics);

/// <summary>A range of the WAL that recovery skipped.</summary>
public sealed record SkippedRange(string SegmentFile, long Offset, long FromLsn, long ToLsn, long Bytes, string Reason);

/// <summary>What opening the WAL found and repaired.</summary>
public sealed record WalOpenResult(
    int SegmentCount, long LastLsn, long TornTailBytes, string? TornTailFile, long TornTailOffset, string? TornTailReason,
    string? TornTailQuarantineFile, long? AbortedTransactionLsn, bool IsNew);

/// <summary>The answer of <c>GET /oxivec/recovery</c>: what the server's open replayed, and what opening the WAL repaired.</summary>
public sealed record RecoveryReport(
    long TotalEntries, long AppliedEntries, long SkippedEntries, long CorruptedEntries, long RecoveryTimeMs, long TornTailBytes,
    long LastLsn, long CheckpointLsn, IReadOnlyList<SkippedRange> SkippedRanges, WalOpenResult WalOpen);

/// <summary>A collection as <c>GET /collections/{name}</c> describes it.</summary>
/// <param name="Status">Always <c>green</c> on OxiVec (no background optimisation).</param>
/// <param name="PointsCount">Points in the collection.</param>
/// <param name="IndexedVectorsCount">Points in its HNSW graph (0 for an exact index).</param>
/// <param name="Vectors">Dimension and distance.</param>
/// <param name="Hnsw">HNSW parameters (<c>M = 0</c>: an exact index).</param>
public sealed record CollectionDescription(string Status, long PointsCount, long IndexedVectorsCount, VectorParams Vectors, HnswConfig Hnsw);
