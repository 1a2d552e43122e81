using System.CommandLine;
using System.Globalization;
using OxiVec.Cli.Output;
using OxiVec.Storage;
using OxiVec.Wal;

namespace OxiVec.Cli.Commands;

/// <summary>
/// <c>oxivec health --data DIR [--wal DIR] [--max-wal-size BYTES] [--json]</c>: opens the database and prints its WAL
/// health check (<see cref="VectorDatabase.CheckHealth"/>: status, findings, the checks it could not judge, and the
/// figures it looked at). Exit code 0 healthy, 1 warning, 2 critical, 4 in use by another process.
/// </summary>
/// <remarks>
/// Latencies and the entry rate are this process's: it has just opened the database and written nothing, so they
/// have no samples and are not judged; the output lists them under "not judged" and qualifies the status. The
/// application's own <c>CheckHealth</c> sees its live figures. The checkpoint age is the engine's; the newest
/// checkpoint record in the WAL is shown beside it.
/// </remarks>
internal static class HealthCommand
{
    /// <summary>What the output says about latencies, everywhere.</summary>
    public const string LatencyNote =
        "latencies and the entry rate are this process's own: it has just opened the database and written nothing, so they have no samples and are not judged; the application's CheckHealth() sees its live figures";

    public static Command Create()
    {
        Option<string> dataOption = StoreOptions.Data();
        Option<string?> walOption = StoreOptions.Wal();
        Option<long> maxSizeOption = new("--max-wal-size")
        {
            Description = $"The application's WalConfig.MaxWalSize, in bytes, that the WAL size is checked against (warning over 80%, critical over 90%). Default {WalConfig.Default.MaxWalSize:D}.",
            DefaultValueFactory = _ => WalConfig.Default.MaxWalSize,
            HelpName = "BYTES",
        };
        Option<bool> jsonOption = new("--json")
        {
            Description = "Print one JSON object: {\"status\", \"findings\": [...], \"metrics\": {...}, \"checkpoint\": {...}, \"note\"}.",
        };
        var command = new Command(
            "health",
            "Check the WAL's health against the guide's thresholds (size against the maximum, last-minute sync and write latency, entry rate against its baseline, age of records left without a checkpoint). " +
            "Exit code 0 healthy, 1 warning, 2 critical, 4 the database is open in another process (nothing checked). " +
            "It opens the database, so it needs the lock; latencies are this process's (no samples: it writes nothing, so they are not judged).")
        {
            dataOption, walOption, maxSizeOption, jsonOption,
        };
        command.SetAction(parse => Run(parse.GetValue(dataOption)!, parse.GetValue(walOption), parse.GetValue(maxSizeOption), parse.GetValue(jsonOption)));
        return command;
    }

    private static int Run(string data, string? wal, long maxWalSize, bool json)
    {
        if (maxWalSize < WalConfig.MinSegmentSizeBytes)
        {
            return Cli.Fail(ExitCodes.Usage, $"--max-wal-size must be at least {WalConfig.MinSegmentSizeBytes} bytes (64 KiB).");
        }

        // Opening writes no new segment unless a crash left a transaction open; any new segment fits the budget.
        WalConfig config = WalConfig.Default with
        {
            MaxWalSize = maxWalSize,
            SegmentSizeBytes = Math.Min(WalConfig.Default.SegmentSizeBytes, maxWalSize),
        };
        VectorDatabase database;
        try
        {
            database = StoreOptions.Open(data, wal, config, create: false);
        }
        catch (WalLockedException ex)
        {
            return InUse(ex, json);
        }

        using var opened = database;
        WalHealthReport report = database.CheckHealth();
        string walDir = Path.GetFullPath(wal ?? Path.Combine(database.DataDirectory, "wal"));
        CheckpointRecord? record = NewestCheckpointRecord(walDir, database.LastCheckpoint);
        var health = new Health(database.DataDirectory, walDir, report, database.LastCheckpoint, record);
        if (json)
        {
            WriteJson(health);
        }
        else
        {
            WriteText(health);
        }

        return report.Status switch
        {
            WalHealthStatus.Healthy => ExitCodes.Ok,
            WalHealthStatus.Warning => ExitCodes.Usage,
            _ => ExitCodes.DataError,
        };
    }

    /// <summary>
    /// The database is open in another process: this one cannot open it, so nothing is checked (exit code 4, unlike a
    /// warning's 1). The live figures are that process's; a server will expose them.
    /// </summary>
    private static int InUse(WalLockedException ex, bool json)
    {
        string message = $"{ex.Message} Its health cannot be checked from here while it is open: the figures are that process's (its CheckHealth()); nothing was checked.";
        if (json)
        {
            using var stdout = new StdOut();
            using var lines = new JsonLines(stdout.Stream);
            lines.WriteObject(o =>
            {
                o.WriteString("wal_directory", ex.Directory);
                o.WriteString("status", "in_use");
                o.WriteString("note", message);
            });
        }

        return Cli.Fail(ExitCodes.InUse, message);
    }

    /// <summary>The newest checkpoint record in the WAL.</summary>
    private sealed record CheckpointRecord(long Lsn, DateTimeOffset Timestamp, long Sequence);

    private sealed record Health(
        string DataDirectory, string WalDirectory, WalHealthReport Report, CheckpointInfo? Checkpoint, CheckpointRecord? Record);

    /// <summary>
    /// The newest checkpoint record: it follows the LSN the newest checkpoint covers, so only the WAL after that is
    /// read (what recovery replayed). Null without a checkpoint.
    /// </summary>
    private static CheckpointRecord? NewestCheckpointRecord(string walDir, CheckpointInfo? checkpoint)
    {
        if (checkpoint is null)
        {
            return null;
        }

        CheckpointRecord? newest = null;
        foreach (WalRecord record in new WalReader(walDir).ReadRecords(checkpoint.CoveredLsn + 1))
        {
            if (record.Type == WalRecordType.Checkpoint && record.ToEntry() is WalEntry.Checkpoint entry)
            {
                newest = new CheckpointRecord(record.Lsn, record.Timestamp, entry.Sequence);
            }
        }

        return newest;
    }

    private static string Status(WalHealthStatus status) => status.ToString().ToLowerInvariant();

    /// <summary>The status, qualified when some checks could not be judged.</summary>
    public static string QualifiedStatus(WalHealthReport report) => report.NotJudged.Count == 0
        ? Status(report.Status)
        : $"{Status(report.Status)} (of the figures judged; {report.NotJudged.Count} not judged: no samples or too short a baseline)";

    /// <summary>A latency figure, or "no samples".</summary>
    public static string Latency(int samples, double averageMs, double p99Ms) => samples == 0
        ? "no samples in the last minute"
        : string.Create(CultureInfo.InvariantCulture, $"{averageMs:F2} ms average, {p99Ms:F2} ms p99 over the last minute ({samples} samples)");

    private static string CheckpointAge(Health h)
    {
        WalMetrics m = h.Report.Metrics;
        string uncovered = m.OldestUncoveredRecordAge is { } lag
            ? $"records logged after it, the oldest up to {Age(lag)} old; critical when over 1 hour"
            : "nothing logged after it: not judged against its age";
        if (h.Record is { } r)
        {
            return $"{Age(m.LastCheckpointAge)} (checkpoint {r.Sequence}, record LSN {StoreOptions.Num(r.Lsn)} at {RecordFormat.Timestamp(r.Timestamp)}; {uncovered})";
        }

        return h.Checkpoint is null
            ? $"{Age(m.LastCheckpointAge)} (no checkpoint yet: counted from this open; {uncovered})"
            : $"{Age(m.LastCheckpointAge)} (checkpoint {h.Checkpoint.Sequence}, no checkpoint record after LSN {StoreOptions.Num(h.Checkpoint.CoveredLsn)}; {uncovered})";
    }

    private static string Age(TimeSpan age) => age.TotalSeconds < 120
        ? string.Create(CultureInfo.InvariantCulture, $"{age.TotalSeconds:F1} s")
        : age.TotalMinutes < 120
            ? string.Create(CultureInfo.InvariantCulture, $"{age.TotalMinutes:F0} min")
            : string.Create(CultureInfo.InvariantCulture, $"{age.TotalHours:F1} h");

    private static IEnumerable<(string, string)> Rows(Health h)
    {
        WalMetrics m = h.Report.Metrics;
        double fill = m.MaxSizeBytes == 0 ? 0 : 100.0 * m.CurrentSizeBytes / m.MaxSizeBytes;
        yield return ("status", QualifiedStatus(h.Report));
        yield return ("WAL size", string.Create(
            CultureInfo.InvariantCulture,
            $"{m.CurrentSizeMb:F2} MB of {m.MaxSizeMb:F0} MB maximum ({fill:F1}%; warning over 80%, critical over 90%), {m.SegmentCount} segment{(m.SegmentCount == 1 ? "" : "s")}"));
        yield return ("fsync latency", $"{Latency(m.SyncSamples, m.AvgSyncLatencyMs, m.P99SyncLatencyMs)} (average: warning over 50 ms, critical over 100 ms)");
        yield return ("write latency", $"{Latency(m.WriteSamples, m.AvgWriteLatencyMs, m.P99WriteLatencyMs)} (average: warning over 10 ms)");
        yield return ("entries per second", string.Create(
            CultureInfo.InvariantCulture,
            $"{m.RecentEntriesPerSec:F1} over the last minute, baseline {m.BaselineEntriesPerSec:F1} over {m.BaselineSpan.TotalMinutes:F1} minutes ({m.BaselineEntries} records; warning beyond ±50%)"));
        yield return ("note", LatencyNote);
        yield return ("last checkpoint age", CheckpointAge(h));
        yield return ("WAL failed", m.IsFailed ? "yes" : "no");
        yield return ("last LSN", StoreOptions.Num(m.LastLsn));
    }

    private static void WriteText(Health h)
    {
        Figures.Write($"WAL health of {h.DataDirectory}", Rows(h));
        if (h.Report.Findings.Count == 0)
        {
            Figures.Line("findings: none", "green");
        }

        foreach (string finding in h.Report.Findings)
        {
            Figures.Line($"finding: {finding}", finding.StartsWith(nameof(WalHealthStatus.Critical), StringComparison.Ordinal) ? "red" : "yellow");
        }

        foreach (string item in h.Report.NotJudged)
        {
            Figures.Line($"not judged: {item}", "grey");
        }
    }

    private static void WriteJson(Health h)
    {
        WalMetrics m = h.Report.Metrics;
        using var stdout = new StdOut();
        using var lines = new JsonLines(stdout.Stream);
        lines.WriteObject(json =>
        {
            json.WriteString("data_directory", h.DataDirectory);
            json.WriteString("wal_directory", h.WalDirectory);
            json.WriteString("status", Status(h.Report.Status));
            json.WriteBoolean("judged_all", h.Report.NotJudged.Count == 0);
            json.WriteStartArray("findings");
            foreach (string finding in h.Report.Findings)
            {
                json.WriteStringValue(finding);
            }

            json.WriteEndArray();
            json.WriteStartArray("not_judged");
            foreach (string item in h.Report.NotJudged)
            {
                json.WriteStringValue(item);
            }

            json.WriteEndArray();
            json.WriteStartObject("metrics");
            json.WriteNumber("size_bytes", m.CurrentSizeBytes);
            json.WriteNumber("max_size_bytes", m.MaxSizeBytes);
            json.WriteNumber("segment_count", m.SegmentCount);
            json.WriteNumber("sync_samples", m.SyncSamples);
            json.WriteNumber("avg_sync_latency_ms", m.AvgSyncLatencyMs);
            json.WriteNumber("p99_sync_latency_ms", m.P99SyncLatencyMs);
            json.WriteNumber("write_samples", m.WriteSamples);
            json.WriteNumber("avg_write_latency_ms", m.AvgWriteLatencyMs);
            json.WriteNumber("p99_write_latency_ms", m.P99WriteLatencyMs);
            json.WriteNumber("recent_entries_per_sec", m.RecentEntriesPerSec);
            json.WriteNumber("baseline_entries_per_sec", m.BaselineEntriesPerSec);
            json.WriteNumber("baseline_entries", m.BaselineEntries);
            json.WriteNumber("baseline_seconds", m.BaselineSpan.TotalSeconds);
            json.WriteNumber("last_checkpoint_age_seconds", m.LastCheckpointAge.TotalSeconds);
            if (m.OldestUncoveredRecordAge is { } lag)
            {
                json.WriteNumber("oldest_uncovered_record_age_seconds", lag.TotalSeconds);
            }
            else
            {
                json.WriteNull("oldest_uncovered_record_age_seconds");
            }

            json.WriteBoolean("failed", m.IsFailed);
            json.WriteNumber("last_lsn", m.LastLsn);
            json.WriteEndObject();
            if (h.Checkpoint is { } c)
            {
                json.WriteStartObject("checkpoint");
                json.WriteNumber("sequence", c.Sequence);
                json.WriteNumber("covered_lsn", c.CoveredLsn);
                if (h.Record is { } r)
                {
                    json.WriteNumber("record_lsn", r.Lsn);
                    json.WriteString("record_time", RecordFormat.Timestamp(r.Timestamp));
                }
                else
                {
                    json.WriteNull("record_lsn");
                    json.WriteNull("record_time");
                }

                json.WriteEndObject();
            }
            else
            {
                json.WriteNull("checkpoint");
            }

            json.WriteString("note", LatencyNote);
        });
    }
}
