namespace OxiVec.Wal;

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
    /// <summary>The fewest minutes of history the entry-rate baseline needs before the rate is judged.</summary>
    public const int BaselineMinimumMinutes = 10;

    /// <summary>The fewest records the entry-rate baseline needs before the rate is judged.</summary>
    public const long BaselineMinimumEntries = 600;

    /// <summary>True when <see cref="Status"/> is <see cref="WalHealthStatus.Healthy"/>.</summary>
    public bool IsHealthy => Status == WalHealthStatus.Healthy;

    /// <summary>
    /// The checks that could not be judged, one line each saying why (no samples in the recent window, a baseline
    /// too short). A healthy status speaks only for the figures that were judged.
    /// </summary>
    public IReadOnlyList<string> NotJudged { get; init; } = [];

    /// <summary>
    /// Applies the guide's thresholds. Warning: WAL size over 80% of the maximum, write latency over 10 ms,
    /// sync latency over 50 ms, entries per second off the baseline by more than 50%. Critical: size over 90%, sync
    /// latency over 100 ms, records left without a checkpoint for over an hour, or a failed WAL.
    /// </summary>
    /// <remarks>
    /// Latencies and the current entry rate are those of the last minute (<see cref="WalMetrics.AvgSyncLatencyMs"/>),
    /// so a disk that slows down after days of service shows at once; a figure without samples in that minute is
    /// not judged and is listed in <see cref="NotJudged"/>. The rate baseline is the last hour's rate, judged once it
    /// covers <see cref="BaselineMinimumMinutes"/> minutes and <see cref="BaselineMinimumEntries"/> records. The
    /// checkpoint age is judged only when records were logged after the newest checkpoint (the age of the oldest of
    /// them, <see cref="WalMetrics.OldestUncoveredRecordAge"/>): an idle database is healthy however old its checkpoint.
    /// </remarks>
    public static WalHealthReport Evaluate(WalMetrics metrics)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        var findings = new List<string>();
        var notJudged = new List<string>();
        var status = WalHealthStatus.Healthy;
        void Add(WalHealthStatus level, string message)
        {
            findings.Add($"{level}: {message}");
            status = (WalHealthStatus)Math.Max((int)status, (int)level);
        }

        if (metrics.IsFailed)
        {
            Add(WalHealthStatus.Critical, "the WAL failed (a write or fsync error) and refuses writes");
        }

        double fill = metrics.MaxSizeBytes == 0 ? 0 : (double)metrics.CurrentSizeBytes / metrics.MaxSizeBytes;
        if (fill > 0.9)
        {
            Add(WalHealthStatus.Critical, $"WAL size {metrics.CurrentSizeMb:F1} MB is over 90% of the {metrics.MaxSizeMb:F0} MB maximum");
        }
        else if (fill > 0.8)
        {
            Add(WalHealthStatus.Warning, $"WAL size {metrics.CurrentSizeMb:F1} MB is over 80% of the {metrics.MaxSizeMb:F0} MB maximum");
        }

        if (metrics.SyncSamples == 0)
        {
            notJudged.Add("sync latency: no samples (no fsync in the last minute)");
        }
        else if (metrics.AvgSyncLatencyMs > 100)
        {
            Add(WalHealthStatus.Critical, $"average sync latency {metrics.AvgSyncLatencyMs:F1} ms over the last minute is over 100 ms");
        }
        else if (metrics.AvgSyncLatencyMs > 50)
        {
            Add(WalHealthStatus.Warning, $"average sync latency {metrics.AvgSyncLatencyMs:F1} ms over the last minute is over 50 ms");
        }

        if (metrics.WriteSamples == 0)
        {
            notJudged.Add("write latency: no samples (no write in the last minute)");
        }
        else if (metrics.AvgWriteLatencyMs > 10)
        {
            Add(WalHealthStatus.Warning, $"average write latency {metrics.AvgWriteLatencyMs:F1} ms over the last minute is over 10 ms");
        }

        if (metrics.MaintenanceFailures > 0)
        {
            Add(WalHealthStatus.Warning, $"{metrics.MaintenanceFailures} WAL maintenance step(s) (segment compression) failed since open; see the log");
        }

        JudgeRate(metrics, notJudged, Add);
        if (metrics.OldestUncoveredRecordAge is { } lag && lag > TimeSpan.FromHours(1))
        {
            Add(
                WalHealthStatus.Critical,
                $"records logged {lag.TotalMinutes:F0} minutes ago are not covered by a checkpoint (last checkpoint {metrics.LastCheckpointAge.TotalMinutes:F0} minutes ago; over 1 hour)");
        }

        return new WalHealthReport(status, findings, metrics) { NotJudged = notJudged };
    }

    private static void JudgeRate(WalMetrics metrics, List<string> notJudged, Action<WalHealthStatus, string> add)
    {
        if (metrics.BaselineSpan < TimeSpan.FromMinutes(BaselineMinimumMinutes))
        {
            notJudged.Add($"entries per second: the baseline covers {metrics.BaselineSpan.TotalMinutes:F1} minutes of the {BaselineMinimumMinutes} it needs");
            return;
        }

        if (metrics.BaselineEntries < BaselineMinimumEntries)
        {
            notJudged.Add($"entries per second: the baseline holds {metrics.BaselineEntries} records of the {BaselineMinimumEntries} it needs");
            return;
        }

        double baseline = metrics.BaselineEntriesPerSec, current = metrics.RecentEntriesPerSec;
        if (current < 0.5 * baseline || current > 1.5 * baseline)
        {
            add(
                WalHealthStatus.Warning,
                $"{current:F1} entries per second over the last minute is off the baseline {baseline:F1} (the last {metrics.BaselineSpan.TotalMinutes:F0} minutes) by more than 50%");
        }
    }
}
