using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using OxiVec.Cli.Output;
using OxiVec.Indexing;
using OxiVec.Storage;
using OxiVec.Wal;
using Spectre.Console;

namespace OxiVec.Cli.Commands;

/// <summary>
/// <c>oxivec stats --data DIR [--wal DIR] [--json]</c>: the collections (name, dimension, metric, index, count, HNSW
/// parameters), the WAL's metrics and health, and what opening the database recovered.
/// </summary>
internal static class StatsCommand
{
    public static Command Create()
    {
        Option<string?> dataOption = new("--data")
        {
            Description = "The data directory (its WAL is in DIR/wal unless --wal says otherwise). Either --data or --url.",
            HelpName = "DIR",
        };
        Option<string?> walOption = StoreOptions.Wal();
        Option<string?> urlOption = new("--url")
        {
            Description = "Instead of a data directory, a running oxivec serve's REST URL: show its replication (each standby's LSNs and lag in bytes, LSNs and ms, or a standby's own).",
            HelpName = "URL",
        };
        Option<string?> apiKeyOption = new("--api-key")
        {
            Description = "With --url: the server's API key (default: OXIVEC_API_KEY).",
            HelpName = "KEY",
        };
        Option<bool> jsonOption = new("--json")
        {
            Description = "Print one JSON object: {\"data_directory\", \"wal_directory\", \"collections\": [...], \"wal\": {...}, \"recovery\": {...}}; with --url, the server's /oxivec/replication result.",
        };
        var command = new Command(
            "stats",
            "Show the collections, the WAL's metrics and health, and what opening the database recovered (it opens the database, so it needs the lock); " +
            "with --url, a running server's replication and lag.")
        {
            dataOption, walOption, urlOption, apiKeyOption, jsonOption,
        };
        command.SetAction(parse =>
        {
            string? data = parse.GetValue(dataOption);
            string? url = parse.GetValue(urlOption);
            if ((data is null) == (url is null))
            {
                throw new CliException(ExitCodes.Usage, "stats needs either --data DIR (a database not held by a running server) or --url URL (a running oxivec serve), not both.");
            }

            return url is not null
                ? ReplicationStatusView.Run(url, parse.GetValue(apiKeyOption) ?? Environment.GetEnvironmentVariable("OXIVEC_API_KEY"), parse.GetValue(jsonOption))
                : Run(data!, parse.GetValue(walOption), parse.GetValue(jsonOption));
        });
        return command;
    }

    private static int Run(string data, string? wal, bool json)
    {
        using VectorDatabase database = StoreOptions.Open(data, wal, WalConfig.Default, create: false);
        var stats = new Stats(
            database.DataDirectory,
            Path.GetFullPath(wal ?? Path.Combine(database.DataDirectory, "wal")),
            database.ListCollections(),
            database.CheckHealth(),
            database.Recovery,
            database.WalOpenReport,
            database.LastCheckpoint);
        if (json)
        {
            WriteJson(stats);
        }
        else if (Cli.IsInteractive)
        {
            WriteTables(stats);
        }
        else
        {
            WritePlain(stats);
        }

        return ExitCodes.Ok;
    }

    private sealed record Stats(
        string DataDirectory, string WalDirectory, IReadOnlyList<CollectionInfo> Collections, WalHealthReport Health, RecoveryStats Recovery,
        WalOpenReport Open, CheckpointInfo? Checkpoint);

    private static string Health(WalHealthStatus status) => status.ToString().ToLowerInvariant();

    private static void WriteJson(Stats s)
    {
        WalMetrics m = s.Health.Metrics;
        using var stdout = new StdOut();
        using var lines = new JsonLines(stdout.Stream);
        lines.WriteObject(json =>
        {
            json.WriteString("data_directory", s.DataDirectory);
            json.WriteString("wal_directory", s.WalDirectory);
            json.WriteStartArray("collections");
            foreach (CollectionInfo c in s.Collections)
            {
                json.WriteStartObject();
                json.WriteString("name", c.Name);
                json.WriteNumber("dimension", c.Options.Dimension);
                json.WriteString("metric", StoreOptions.MetricName(c.Options.Metric));
                json.WriteString("index", StoreOptions.IndexName(c.Options.Index));
                json.WriteNumber("count", c.Count);
                if (c.Options.Index == IndexKind.Hnsw)
                {
                    json.WriteStartObject("hnsw");
                    json.WriteNumber("m", c.Options.Hnsw.M);
                    json.WriteNumber("ef_construction", c.Options.Hnsw.EfConstruction);
                    json.WriteNumber("ef_search", c.Options.Hnsw.EfSearch);
                    json.WriteEndObject();
                }
                else
                {
                    json.WriteNull("hnsw");
                }

                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteStartObject("wal");
            json.WriteNumber("size_bytes", m.CurrentSizeBytes);
            json.WriteNumber("max_size_bytes", m.MaxSizeBytes);
            json.WriteNumber("total_entries", m.TotalEntries);
            json.WriteNumber("last_lsn", m.LastLsn);
            json.WriteNumber("durable_lsn", m.DurableLsn);
            json.WriteNumber("segment_count", m.SegmentCount);
            json.WriteNumber("entries_appended", m.EntriesAppended);
            json.WriteNumber("sync_count", m.SyncCount);
            json.WriteNumber("write_ops_per_sec", m.WriteOpsPerSec);
            json.WriteNumber("write_samples", m.WriteSamples);
            json.WriteNumber("avg_write_latency_ms", m.AvgWriteLatencyMs);
            json.WriteNumber("p50_write_latency_ms", m.P50WriteLatencyMs);
            json.WriteNumber("p99_write_latency_ms", m.P99WriteLatencyMs);
            json.WriteNumber("lifetime_avg_write_latency_ms", m.LifetimeAvgWriteLatencyMs);
            json.WriteNumber("sync_samples", m.SyncSamples);
            json.WriteNumber("avg_sync_latency_ms", m.AvgSyncLatencyMs);
            json.WriteNumber("p99_sync_latency_ms", m.P99SyncLatencyMs);
            json.WriteNumber("lifetime_avg_sync_latency_ms", m.LifetimeAvgSyncLatencyMs);
            json.WriteNumber("last_checkpoint_age_seconds", m.LastCheckpointAge.TotalSeconds);
            json.WriteBoolean("failed", m.IsFailed);
            json.WriteString("health", Health(s.Health.Status));
            json.WriteBoolean("health_judged_all", s.Health.NotJudged.Count == 0);
            json.WriteStartArray("findings");
            foreach (string finding in s.Health.Findings)
            {
                json.WriteStringValue(finding);
            }

            json.WriteEndArray();
            json.WriteStartArray("not_judged");
            foreach (string item in s.Health.NotJudged)
            {
                json.WriteStringValue(item);
            }

            json.WriteEndArray();
            json.WriteEndObject();
            if (s.Checkpoint is { } checkpoint)
            {
                json.WriteStartObject("checkpoint");
                json.WriteNumber("sequence", checkpoint.Sequence);
                json.WriteNumber("covered_lsn", checkpoint.CoveredLsn);
                json.WriteString("created", RecordFormat.Timestamp(checkpoint.Created));
                json.WriteString("path", checkpoint.Path);
                json.WriteEndObject();
            }
            else
            {
                json.WriteNull("checkpoint");
            }

            json.WriteStartObject("recovery");
            json.WriteNumber("checkpoint_lsn", s.Recovery.CheckpointLsn);
            json.WriteNumber("total_entries", s.Recovery.TotalEntries);
            json.WriteNumber("applied_entries", s.Recovery.AppliedEntries);
            json.WriteNumber("skipped_entries", s.Recovery.SkippedEntries);
            json.WriteNumber("corrupted_entries", s.Recovery.CorruptedEntries);
            json.WriteNumber("skipped_ranges", s.Recovery.SkippedRanges.Count);
            json.WriteNumber("recovery_time_ms", s.Recovery.RecoveryTimeMs);
            json.WriteNumber("torn_tail_bytes", s.Recovery.TornTailBytes);
            json.WriteNumber("last_lsn", s.Recovery.LastLsn);
            json.WriteNumber("segment_count", s.Open.SegmentCount);
            WriteNullableString(json, "torn_tail_file", s.Open.TornTailFile);
            if (s.Open.AbortedTransactionLsn is { } aborted)
            {
                json.WriteNumber("aborted_transaction_lsn", aborted);
            }
            else
            {
                json.WriteNull("aborted_transaction_lsn");
            }

            json.WriteEndObject();
        });
    }

    private static void WriteNullableString(Utf8JsonWriter json, string name, string? value)
    {
        if (value is null)
        {
            json.WriteNull(name);
        }
        else
        {
            json.WriteString(name, value);
        }
    }

    private static IEnumerable<(string Name, string Value)> WalRows(WalMetrics m) =>
    [
        ("size", $"{m.CurrentSizeMb:F2} MB of {m.MaxSizeMb:F0} MB in {m.SegmentCount} segment{(m.SegmentCount == 1 ? "" : "s")}"),
        ("entries", Num(m.TotalEntries)),
        ("last LSN / durable LSN", $"{Num(m.LastLsn)} / {Num(m.DurableLsn)}"),
        ("write latency avg / p50 / p99", m.WriteSamples == 0
            ? "no samples in the last minute"
            : $"{m.AvgWriteLatencyMs:F2} / {m.P50WriteLatencyMs:F2} / {m.P99WriteLatencyMs:F2} ms over the last minute ({Num(m.WriteSamples)} samples)"),
        ("fsync latency avg / p99", m.SyncSamples == 0
            ? $"no samples in the last minute ({Num(m.SyncCount)} fsyncs since open)"
            : $"{m.AvgSyncLatencyMs:F2} / {m.P99SyncLatencyMs:F2} ms over the last minute ({Num(m.SyncSamples)} samples, {Num(m.SyncCount)} fsyncs since open)"),
        ("writes since open", $"{Num(m.EntriesAppended)} ({m.WriteOpsPerSec:N0}/s)"),
    ];

    private static IEnumerable<(string Name, string Value)> RecoveryRows(RecoveryStats r, WalOpenReport open, CheckpointInfo? checkpoint) =>
    [
        ("started from", r.CheckpointLsn > 0
            ? $"checkpoint {checkpoint?.Sequence} (covers LSN {Num(r.CheckpointLsn)}, written {(checkpoint is null ? "?" : RecordFormat.Timestamp(checkpoint.Created))})"
            : "the start of the WAL (no checkpoint)"),
        ("WAL records read after it", Num(r.TotalEntries)),
        ("applied", Num(r.AppliedEntries)),
        ("skipped (markers, uncommitted transactions)", Num(r.SkippedEntries)),
        ("corrupted", Num(r.CorruptedEntries)),
        ("torn tail cut off", r.TornTailBytes > 0 ? $"{Num(r.TornTailBytes)} bytes in {open.TornTailFile} at offset {Num(open.TornTailOffset)}" : "none"),
        ("open transaction aborted", open.AbortedTransactionLsn is { } lsn ? $"the one begun at LSN {Num(lsn)}" : "none"),
        ("last LSN", Num(r.LastLsn)),
        ("replay time", $"{Num(r.RecoveryTimeMs)} ms"),
    ];

    private static string Hnsw(CollectionOptions o) =>
        o.Index == IndexKind.Hnsw ? $"M {o.Hnsw.M}, efConstruction {o.Hnsw.EfConstruction}, efSearch {o.Hnsw.EfSearch}" : "-";

    private static void WritePlain(Stats s)
    {
        using var stdout = new StdOut();
        TextWriter o = stdout.Text;
        o.WriteLine($"data directory: {s.DataDirectory}");
        o.WriteLine($"WAL directory: {s.WalDirectory}");
        o.WriteLine($"collections: {s.Collections.Count}");
        foreach (CollectionInfo c in s.Collections)
        {
            o.WriteLine(
                $"collection {c.Name}: count {c.Count}, dimension {c.Options.Dimension}, metric {StoreOptions.MetricName(c.Options.Metric)}, " +
                $"index {StoreOptions.IndexName(c.Options.Index)}{(c.Options.Index == IndexKind.Hnsw ? $" ({Hnsw(c.Options)})" : "")}");
        }

        foreach ((string name, string value) in WalRows(s.Health.Metrics))
        {
            o.WriteLine($"wal {name}: {value}");
        }

        o.WriteLine($"wal health: {HealthCommand.QualifiedStatus(s.Health)}{(s.Health.Findings.Count > 0 ? " (" + string.Join("; ", s.Health.Findings) + ")" : "")}");
        foreach (string item in s.Health.NotJudged)
        {
            o.WriteLine($"wal health not judged: {item}");
        }
        foreach ((string name, string value) in RecoveryRows(s.Recovery, s.Open, s.Checkpoint))
        {
            o.WriteLine($"recovery {name}: {value}");
        }
    }

    private static void WriteTables(Stats s)
    {
        AnsiConsole.MarkupLine($"[bold]Data[/] {Markup.Escape(s.DataDirectory)}   [bold]WAL[/] {Markup.Escape(s.WalDirectory)}");
        var collections = new Table().Border(TableBorder.Rounded).Title("[bold]Collections[/]");
        collections.AddColumns("Name", "Records", "Dimension", "Metric", "Index", "HNSW parameters");
        foreach (CollectionInfo c in s.Collections)
        {
            collections.AddRow(
                Markup.Escape(c.Name), Num(c.Count), Num(c.Options.Dimension), StoreOptions.MetricName(c.Options.Metric),
                StoreOptions.IndexName(c.Options.Index), Markup.Escape(Hnsw(c.Options)));
        }

        if (s.Collections.Count == 0)
        {
            collections.AddRow("[grey](none)[/]", "", "", "", "", "");
        }

        AnsiConsole.Write(collections);
        string color = s.Health.Status switch
        {
            WalHealthStatus.Healthy => "green",
            WalHealthStatus.Warning => "yellow",
            _ => "red",
        };
        var walTable = new Table().Border(TableBorder.Rounded).Title("[bold]Write-ahead log[/]").AddColumns("Metric", "Value");
        foreach ((string name, string value) in WalRows(s.Health.Metrics))
        {
            walTable.AddRow(Markup.Escape(name), Markup.Escape(value));
        }

        walTable.AddRow("health", $"[{color}]{Markup.Escape(HealthCommand.QualifiedStatus(s.Health))}[/]{Markup.Escape(s.Health.Findings.Count > 0 ? ": " + string.Join("; ", s.Health.Findings) : "")}");
        foreach (string item in s.Health.NotJudged)
        {
            walTable.AddRow("not judged", $"[grey]{Markup.Escape(item)}[/]");
        }
        AnsiConsole.Write(walTable);
        var recovery = new Table().Border(TableBorder.Rounded).Title("[bold]Recovery (this open)[/]").AddColumns("Figure", "Value");
        foreach ((string name, string value) in RecoveryRows(s.Recovery, s.Open, s.Checkpoint))
        {
            recovery.AddRow(Markup.Escape(name), Markup.Escape(value));
        }

        AnsiConsole.Write(recovery);
    }

    private static string Num(long value) => value.ToString("N0", CultureInfo.InvariantCulture);
}
