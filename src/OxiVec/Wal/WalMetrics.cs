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

    /// <summary>Average time of one fsync, in ms.</summary>
    public double AvgSyncLatencyMs { get; init; }

    /// <summary>99th percentile of recent fsyncs, in ms.</summary>
    public double P99SyncLatencyMs { get; init; }

    /// <summary>Average time from append to acknowledgement (write, and fsync when the policy waits for it), in ms.</summary>
    public double AvgWriteLatencyMs { get; init; }

    /// <summary>Median of recent append-to-acknowledgement times, in ms.</summary>
    public double P50WriteLatencyMs { get; init; }

    /// <summary>99th percentile of recent append-to-acknowledgement times, in ms.</summary>
    public double P99WriteLatencyMs { get; init; }

    /// <summary>fsyncs performed since open; with group commit, far fewer than commits.</summary>
    public long SyncCount { get; init; }

    /// <summary>Bytes written to segment files since open.</summary>
    public long BytesWritten { get; init; }

    /// <summary>
    /// Time since the last checkpoint record, or since the WAL was opened when there is none; measured on the
    /// monotonic clock within a process. Never negative: a checkpoint the wall clock dated in the future (it has
    /// stepped back since) counts as just written.
    /// </summary>
    public TimeSpan LastCheckpointAge { get; init; }

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

/// <summary>The outcome of a health check.</summary>
public enum WalHealthStatus
{
    /// <summary>Every figure is within its threshold.</summary>
    Healthy,

    /// <summary>A figure passed an alert threshold (the guide's "Key Metrics to Track" table).</summary>
    Warning,

    /// <summary>A figure passed a failure threshold (the guide's health check), or the WAL has failed.</summary>
    Critical,
}

/// <summary>The result of <see cref="WalManager.CheckHealth"/>: a status and one line per finding.</summary>
/// <param name="Status">The worst status of the findings.</param>
/// <param name="Findings">Human-readable findings, each naming the figure and its threshold.</param>
/// <param name="Metrics">The metrics the check looked at.</param>
public sealed record WalHealthReport(WalHealthStatus Status, IReadOnlyList<string> Findings, WalMetrics Metrics)
{
    /// <summary>True when <see cref="Status"/> is <see cref="WalHealthStatus.Healthy"/>.</summary>
    public bool IsHealthy => Status == WalHealthStatus.Healthy;

    /// <summary>
    /// Applies the guide's thresholds. Warning: WAL size over 80% of the maximum, write latency over 10 ms,
    /// sync latency over 50 ms, a failed maintenance step. Critical: size over 90%, sync latency over 100 ms, last checkpoint older than an
    /// hour, or a failed WAL.
    /// </summary>
    public static WalHealthReport Evaluate(WalMetrics metrics)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        var findings = new List<string>();
        var status = WalHealthStatus.Healthy;
        void Add(WalHealthStatus level, string message)
        {
            findings.Add($"{level}: {message}");
            status = (WalHealthStatus)Math.Max((int)status, (int)level);
        }

        double fill = metrics.MaxSizeBytes == 0 ? 0 : (double)metrics.CurrentSizeBytes / metrics.MaxSizeBytes;
        if (metrics.IsFailed)
        {
            Add(WalHealthStatus.Critical, "the WAL failed (a write or fsync error) and refuses writes");
        }

        if (fill > 0.9)
        {
            Add(WalHealthStatus.Critical, $"WAL size {metrics.CurrentSizeMb:F1} MB is over 90% of the {metrics.MaxSizeMb:F0} MB maximum");
        }
        else if (fill > 0.8)
        {
            Add(WalHealthStatus.Warning, $"WAL size {metrics.CurrentSizeMb:F1} MB is over 80% of the {metrics.MaxSizeMb:F0} MB maximum");
        }

        if (metrics.AvgSyncLatencyMs > 100)
        {
            Add(WalHealthStatus.Critical, $"average sync latency {metrics.AvgSyncLatencyMs:F1} ms is over 100 ms");
        }
        else if (metrics.AvgSyncLatencyMs > 50)
        {
            Add(WalHealthStatus.Warning, $"average sync latency {metrics.AvgSyncLatencyMs:F1} ms is over 50 ms");
        }

        if (metrics.AvgWriteLatencyMs > 10)
        {
            Add(WalHealthStatus.Warning, $"average write latency {metrics.AvgWriteLatencyMs:F1} ms is over 10 ms");
        }

        if (metrics.MaintenanceFailures > 0)
        {
            Add(WalHealthStatus.Warning, $"{metrics.MaintenanceFailures} WAL maintenance step(s) (segment compression) failed since open; see the log");
        }

        if (metrics.LastCheckpointAge > TimeSpan.FromHours(1))
        {
            Add(WalHealthStatus.Critical, $"last checkpoint is {metrics.LastCheckpointAge.TotalMinutes:F0} minutes old (over 1 hour)");
        }

        return new WalHealthReport(status, findings, metrics);
    }
}
