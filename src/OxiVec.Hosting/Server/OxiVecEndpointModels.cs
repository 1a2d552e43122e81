using OxiVec.Storage;
using OxiVec.Wal;

namespace OxiVec.Hosting.Server;

/// <summary>The answer of <c>POST /oxivec/checkpoint</c>.</summary>
internal sealed record CheckpointResult(
    long Sequence, long CoveredLsn, long Bytes, long DurationMs, double WriteStallMs, string Path, DateTimeOffset Created,
    int SegmentsRemoved, int SegmentsCompressed)
{
    public static CheckpointResult From(CheckpointInfo info) => new(
        info.Sequence, info.CoveredLsn, info.Bytes, info.DurationMs, info.WriteStallMs, info.Path, info.Created, info.SegmentsRemoved, info.SegmentsCompressed);
}

/// <summary>The answer of <c>GET /oxivec/wal/metrics</c>: <see cref="WalMetrics"/>, durations in seconds.</summary>
internal sealed record WalMetricsResult(
    long CurrentSizeBytes, long MaxSizeBytes, long TotalEntries, long EntriesAppended, double WriteOpsPerSec,
    double RecentEntriesPerSec, double BaselineEntriesPerSec, long BaselineEntries, double BaselineSpanSeconds,
    int SyncSamples, double AvgSyncLatencyMs, double P99SyncLatencyMs, double LifetimeAvgSyncLatencyMs,
    int WriteSamples, double AvgWriteLatencyMs, double P50WriteLatencyMs, double P99WriteLatencyMs, double LifetimeAvgWriteLatencyMs,
    long SyncCount, long CommitSyncs, double AvgCommitsPerSync, IReadOnlyList<WalCommitBatchBucket> CommitsPerSyncHistogram,
    long BytesWritten, double LastCheckpointAgeSeconds, double? OldestUncoveredRecordAgeSeconds, long LastLsn, long DurableLsn,
    int SegmentCount, bool IsFailed, long MaintenanceFailures, long ClockSteps)
{
    public static WalMetricsResult From(WalMetrics m) => new(
        m.CurrentSizeBytes, m.MaxSizeBytes, m.TotalEntries, m.EntriesAppended, m.WriteOpsPerSec,
        m.RecentEntriesPerSec, m.BaselineEntriesPerSec, m.BaselineEntries, m.BaselineSpan.TotalSeconds,
        m.SyncSamples, m.AvgSyncLatencyMs, m.P99SyncLatencyMs, m.LifetimeAvgSyncLatencyMs,
        m.WriteSamples, m.AvgWriteLatencyMs, m.P50WriteLatencyMs, m.P99WriteLatencyMs, m.LifetimeAvgWriteLatencyMs,
        m.SyncCount, m.CommitSyncs, m.AvgCommitsPerSync, m.CommitsPerSyncHistogram,
        m.BytesWritten, m.LastCheckpointAge.TotalSeconds, m.OldestUncoveredRecordAge?.TotalSeconds, m.LastLsn, m.DurableLsn,
        m.SegmentCount, m.IsFailed, m.MaintenanceFailures, m.ClockSteps);
}

/// <summary>The answer of <c>GET /oxivec/wal/health</c>: <see cref="WalHealthReport"/>.</summary>
internal sealed record WalHealthResult(string Status, IReadOnlyList<string> Findings, IReadOnlyList<string> NotJudged, WalMetricsResult Metrics)
{
    public static WalHealthResult From(WalHealthReport report) =>
        new(report.Status.ToString().ToLowerInvariant(), report.Findings, report.NotJudged, WalMetricsResult.From(report.Metrics));
}

/// <summary>The answer of <c>GET /oxivec/recovery</c>: <see cref="RecoveryStats"/> of the open, and what opening the WAL repaired.</summary>
internal sealed record RecoveryResult(
    long TotalEntries, long AppliedEntries, long SkippedEntries, long CorruptedEntries, long RecoveryTimeMs, long TornTailBytes,
    long LastLsn, long CheckpointLsn, IReadOnlyList<WalSkippedRange> SkippedRanges, WalOpenResult WalOpen)
{
    public static RecoveryResult From(RecoveryStats s, WalOpenReport open) => new(
        s.TotalEntries, s.AppliedEntries, s.SkippedEntries, s.CorruptedEntries, s.RecoveryTimeMs, s.TornTailBytes,
        s.LastLsn, s.CheckpointLsn, s.SkippedRanges, WalOpenResult.From(open));
}

/// <summary>What opening the WAL found and repaired (<see cref="WalOpenReport"/>).</summary>
internal sealed record WalOpenResult(
    int SegmentCount, long LastLsn, long TornTailBytes, string? TornTailFile, long TornTailOffset, string? TornTailReason,
    string? TornTailQuarantineFile, long? AbortedTransactionLsn, bool IsNew)
{
    public static WalOpenResult From(WalOpenReport r) => new(
        r.SegmentCount, r.LastLsn, r.TornTailBytes, r.TornTailFile, r.TornTailOffset, r.TornTailReason, r.TornTailQuarantineFile,
        r.AbortedTransactionLsn, r.IsNew);
}

/// <summary>The answer of <c>GET /oxivec/collections/{name}/index</c>: the collection's shape, index and record count.</summary>
internal sealed record CollectionIndexResult(string Name, int Dimension, string Metric, string Index, int Count, HnswResult? Hnsw)
{
    public static CollectionIndexResult From(CollectionInfo c) => new(
        c.Name, c.Options.Dimension, c.Options.Metric.ToString().ToLowerInvariant(), c.Options.Index.ToString().ToLowerInvariant(), c.Count,
        c.Options.Index == IndexKind.Hnsw ? HnswResult.From(c.Options.Hnsw) : null);
}

/// <summary>A collection's HNSW parameters.</summary>
internal sealed record HnswResult(int M, int MaxM0, int EfConstruction, int EfSearch, int Seed, bool KeepPrunedConnections, bool AutoCompact)
{
    public static HnswResult From(Indexing.HnswParameters h) => new(h.M, h.MaxM0, h.EfConstruction, h.EfSearch, h.Seed, h.KeepPrunedConnections, h.AutoCompact);
}
