using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using OxiVec.Cli.Output;
using OxiVec.Recovery;
using OxiVec.Storage;
using OxiVec.Wal;

namespace OxiVec.Cli.Commands;

/// <summary>
/// <c>oxivec recover --data DIR [--wal DIR] [--skip-corrupted] [--max-recovery-ms N] [--checkpoint] [--json]</c>: crash
/// recovery (the engine's <see cref="CrashRecoveryManager.Recover"/>: newest valid checkpoint, then replay of the
/// committed WAL after it, a torn tail cut off, a transaction left open aborted), and its statistics.
/// <c>oxivec recover --data DIR (--to-time T | --to-lsn N) --target DIR [--json]</c>: point-in-time recovery into a new
/// directory (<see cref="CrashRecoveryManager.RecoverToPointInTime"/>), the source only read.
/// </summary>
internal static class RecoverCommand
{
    /// <summary>The ISO 8601 forms <c>--to-time</c> accepts; without an offset the time is UTC.</summary>
    private static readonly string[] TimeFormats =
    [
        "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK", "yyyy-MM-dd'T'HH:mm:ssK", "yyyy-MM-dd'T'HH:mmK",
        "yyyy-MM-dd HH:mm:ss.FFFFFFFK", "yyyy-MM-dd HH:mm:ssK", "yyyy-MM-dd HH:mmK",
        "yyyy-MM-dd",
    ];

    public static Command Create()
    {
        Option<string> dataOption = StoreOptions.Data();
        Option<string?> walOption = StoreOptions.Wal();
        Option<bool> skipOption = new("--skip-corrupted")
        {
            Description = "Warning: loses data. Pass over damaged WAL records instead of stopping; each skipped range is printed on stderr, and a transaction that lost records is not applied.",
        };
        Option<int> maxMsOption = new("--max-recovery-ms")
        {
            Description = "Fail (exit code 1) when recovery (loading the checkpoint, rebuilding indexes, replaying; or the whole point-in-time rebuild) takes longer than N ms; the WAL is left intact and no point-in-time target is created. 0, the default: no limit.",
            DefaultValueFactory = _ => 0,
            HelpName = "N",
        };
        Option<bool> checkpointOption = new("--checkpoint")
        {
            Description = "After crash recovery, write a checkpoint, so the next open starts after everything recovered (after --skip-corrupted: after the damage, whose records are then lost for good). Deletes nothing.",
        };
        Option<string?> toTimeOption = new("--to-time")
        {
            Description = "Point-in-time recovery: the database as of this time, records logged at or before it (ISO 8601: 2026-06-01T10:00:00Z, 2026-06-01T12:00:00.5+02:00; without an offset, UTC). Needs --target.",
            HelpName = "ISO8601",
        };
        Option<long?> toLsnOption = new("--to-lsn")
        {
            Description = "Point-in-time recovery: the database as of this LSN, inclusive (a transaction counts when its commit is at or before it). Needs --target.",
            HelpName = "N",
        };
        Option<string?> targetOption = new("--target")
        {
            Description = "The new data directory point-in-time recovery writes (it must not exist, or be empty); the source is only read.",
            HelpName = "DIR",
        };
        Option<bool> jsonOption = new("--json")
        {
            Description = "Print one JSON object: {\"mode\", \"total_entries\", \"applied_entries\", \"skipped_entries\", \"corrupted_entries\", \"recovery_time_ms\", \"checkpoint_lsn\", \"torn_tail_bytes\", \"last_lsn\", \"skipped_ranges\": [...], ...; with --to-time or --to-lsn also \"target\", \"target_lsn\", \"frozen_clock_windows\": [...]}.",
        };
        var command = new Command(
            "recover",
            "Crash recovery: open the database from its newest checkpoint and WAL (cutting a torn tail, aborting a transaction left open) and report what was replayed. " +
            "With --to-time or --to-lsn: point-in-time recovery into a new directory (--target), the source only read. " +
            "Exit code 2 on WAL corruption (unless --skip-corrupted), 1 when the point asked for is not retained.")
        {
            dataOption, walOption, skipOption, maxMsOption, checkpointOption, toTimeOption, toLsnOption, targetOption, jsonOption,
        };
        command.SetAction(parse => Run(new Request(
            parse.GetValue(dataOption)!, parse.GetValue(walOption), parse.GetValue(skipOption), parse.GetValue(maxMsOption),
            parse.GetValue(checkpointOption), parse.GetValue(toTimeOption), parse.GetValue(toLsnOption), parse.GetValue(targetOption),
            parse.GetValue(jsonOption))));
        return command;
    }

    private sealed record Request(
        string Data, string? Wal, bool SkipCorrupted, int MaxRecoveryMs, bool Checkpoint, string? ToTime, long? ToLsn, string? Target, bool Json)
    {
        public bool PointInTime => ToTime is not null || ToLsn is not null;

        public string WalDirectory => Path.GetFullPath(Wal ?? Path.Combine(Data, "wal"));
    }

    private static int Run(Request request)
    {
        if (Validate(request) is { } usage)
        {
            return Cli.Fail(ExitCodes.Usage, usage);
        }

        RecoveryTarget? target = null;
        if (request.ToLsn is { } lsn)
        {
            target = RecoveryTarget.ToLsn(lsn);
        }
        else if (request.ToTime is { } text)
        {
            if (!TryParseTime(text, out DateTimeOffset time))
            {
                return Cli.Fail(
                    ExitCodes.Usage,
                    $"--to-time '{text}' is not an ISO 8601 time; write it like 2026-06-01T10:00:00Z (UTC), 2026-06-01T12:00:00.250+02:00 or 2026-06-01 (midnight UTC).");
            }

            target = RecoveryTarget.ToTime(time);
        }

        StoreOptions.Check(request.Data, request.Wal, create: false);
        return target is null ? CrashRecovery(request) : PointInTime(request, target);
    }

    /// <summary>The one-line usage error for options that do not go together, or null.</summary>
    private static string? Validate(Request r)
    {
        if (r.ToTime is not null && r.ToLsn is not null)
        {
            return "give --to-time or --to-lsn, not both.";
        }

        if (r.ToLsn is < 0)
        {
            return "--to-lsn must be 0 or more.";
        }

        if (r.MaxRecoveryMs < 0)
        {
            return "--max-recovery-ms must be 0 (no limit) or more.";
        }

        if (!r.PointInTime)
        {
            return r.Target is null ? null : "--target is the new directory of point-in-time recovery; give --to-time or --to-lsn with it.";
        }

        if (r.Target is null)
        {
            return $"point-in-time recovery (--{(r.ToLsn is null ? "to-time" : "to-lsn")}) writes a new database; give its directory with --target DIR (it must not exist, or be empty).";
        }

        if (r.SkipCorrupted || r.Checkpoint)
        {
            return "--skip-corrupted and --checkpoint are for crash recovery, not with --to-time or --to-lsn (point-in-time recovery stops at damage and always checkpoints the new database).";
        }

        if (File.Exists(r.Target))
        {
            return $"--target '{r.Target}' is a file; point-in-time recovery writes a new data directory.";
        }

        if (Directory.Exists(r.Target) && Directory.EnumerateFileSystemEntries(r.Target).Any())
        {
            return $"--target '{r.Target}' is not empty; point-in-time recovery writes a new database there. Give a new or empty directory.";
        }

        return null;
    }

    /// <summary>Parses an ISO 8601 time (see <see cref="TimeFormats"/>), as UTC when it has no offset.</summary>
    public static bool TryParseTime(string text, out DateTimeOffset time) => DateTimeOffset.TryParseExact(
        text.Trim(), TimeFormats, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out time);

    private static int CrashRecovery(Request request)
    {
        var manager = new CrashRecoveryManager(
            new RecoveryConfig
            {
                DataDir = request.Data,
                WalDir = request.Wal,
                SkipCorruptedEntries = request.SkipCorrupted,
                MaxRecoveryTimeMs = request.MaxRecoveryMs,
            },
            // The CLI does not know the application's retention policy: the checkpoint of --checkpoint deletes nothing.
            new VectorDatabaseOptions { Wal = WalConfig.Default with { RetentionPolicy = RetentionPolicy.KeepAll } });
        VectorDatabase database;
        try
        {
            database = Figures.WithSpinner(!request.Json, $"Recovering {request.Data}...", manager.Recover);
        }
        catch (WalCorruptionException ex)
        {
            return Cli.Fail(
                ExitCodes.DataError,
                $"{ex.Message}. Recovery stopped there: nothing after the damage can be replayed. Run '{OxiVecCli.Name} wal verify --wal {request.WalDirectory}' for the full report; " +
                "restore the damaged segment from a backup or replica, or rerun with --skip-corrupted to recover without the damaged records (their writes are lost).");
        }
        catch (RecoveryTimeoutException ex)
        {
            return Cli.Fail(ExitCodes.Usage, ex.Message);
        }

        using (database)
        {
            RecoveryStats stats = manager.GetRecoveryStats();
            WalOpenReport open = database.WalOpenReport;
            foreach (WalSkippedRange range in stats.SkippedRanges)
            {
                Figures.Warning(
                    $"SKIPPED corrupted WAL records: LSN {range.FromLsn} to {range.ToLsn} ({Plural(range.Records, "record")}, {Plural(range.Bytes, "byte")}) " +
                    $"in {range.SegmentFile} at byte offset {range.Offset}: {range.Reason}. " +
                    (range.QuarantineFile is { } copy ? $"The damaged bytes are kept in {Path.Combine(request.WalDirectory, copy)}. " : "") +
                    "Their writes are lost.");
            }

            CheckpointInfo? checkpoint = request.Checkpoint
                ? Figures.WithSpinner(!request.Json, "Writing a checkpoint...", database.Checkpoint)
                : null;
            if (stats.CorruptedEntries > 0 && checkpoint is null)
            {
                Figures.Warning(
                    $"{Plural(stats.CorruptedEntries, "corrupted WAL record")} skipped. The damage stays in the WAL: opening without skipping fails again until a checkpoint covers it " +
                    "(rerun with --checkpoint to write one, after which the skipped records are lost for good).");
            }

            IReadOnlyList<CollectionInfo> collections = database.ListCollections();
            if (request.Json)
            {
                WriteJson(request, stats, open, checkpoint, collections, pitr: null);
            }
            else
            {
                Figures.Write($"Crash recovery of {database.DataDirectory}", CrashRows(stats, open, checkpoint, collections));
            }

            return ExitCodes.Ok;
        }
    }

    private static int PointInTime(Request request, RecoveryTarget target)
    {
        string targetDir = Path.GetFullPath(request.Target!);
        var manager = new CrashRecoveryManager(new RecoveryConfig { DataDir = request.Data, WalDir = request.Wal, MaxRecoveryTimeMs = request.MaxRecoveryMs });
        VectorDatabase database;
        try
        {
            // The engine builds the new database beside the target and renames it into place at the end: an
            // interruption or a failure leaves no half-built target.
            database = Figures.WithSpinner(!request.Json, $"Rebuilding {request.Data} as of {target} into {targetDir}...", () => manager.RecoverToPointInTime(target, targetDir));
        }
        catch (ArgumentException ex)
        {
            // Older than what is retained (the engine names the oldest reachable point), after the end of the log, or
            // a target that is, is inside or contains the source's directories.
            return Cli.Fail(ExitCodes.Usage, $"cannot recover to {target}: {StoreOptions.Describe(ex)}");
        }
        catch (RecoveryTimeoutException ex)
        {
            return Cli.Fail(ExitCodes.Usage, $"{ex.Message} '{targetDir}' was not created.");
        }

        using (database)
        {
            RecoveryStats stats = manager.GetRecoveryStats();
            IReadOnlyList<CollectionInfo> collections = database.ListCollections();
            var pitr = new PointInTimeResult(targetDir, target, stats.LastLsn);
            foreach (FrozenClockWindow window in stats.FrozenClockWindows)
            {
                Figures.Warning(
                    $"{target} falls inside a frozen clock window: the wall clock had stepped back, so the records LSN {window.FromLsn} to {window.ToLsn}, " +
                    $"written while it read {RecordFormat.Timestamp(window.WallClockAtStep)} to {RecordFormat.Timestamp(window.FrozenTimestamp)}, are all stamped " +
                    $"{RecordFormat.Timestamp(window.FrozenTimestamp)} and cannot be ordered by time; none of them was restored. " +
                    $"To include some, recover with --to-lsn N, N from {window.FromLsn} to {window.ToLsn} ('{OxiVecCli.Name} wal dump' shows them).");
            }

            if (request.Json)
            {
                WriteJson(request, stats, open: null, checkpoint: null, collections, pitr);
            }
            else
            {
                Figures.Write($"Point-in-time recovery of {Path.GetFullPath(request.Data)} as of {target}", PointInTimeRows(stats, pitr, collections));
            }

            return ExitCodes.Ok;
        }
    }

    private sealed record PointInTimeResult(string Directory, RecoveryTarget Target, long TargetLsn);

    private static IEnumerable<(string, string)> CrashRows(RecoveryStats r, WalOpenReport open, CheckpointInfo? checkpoint, IReadOnlyList<CollectionInfo> collections)
    {
        yield return ("started from", r.CheckpointLsn > 0 ? $"the checkpoint covering LSN {Num(r.CheckpointLsn)}" : "the start of the WAL (no checkpoint)");
        yield return ("WAL records read after it", Num(r.TotalEntries));
        yield return ("applied", Num(r.AppliedEntries));
        yield return ("skipped (markers, uncommitted transactions)", Num(r.SkippedEntries));
        yield return ("corrupted (skipped, lost)", Num(r.CorruptedEntries));
        yield return ("torn tail cut off", r.TornTailBytes > 0 ? $"{Num(r.TornTailBytes)} bytes in {open.TornTailFile} at byte offset {Num(open.TornTailOffset)}, kept in {open.TornTailQuarantineFile}" : "none");
        yield return ("open transaction aborted", open.AbortedTransactionLsn is { } begun ? $"the one begun at LSN {Num(begun)}" : "none");
        yield return ("last LSN", Num(r.LastLsn));
        yield return ("replay time", $"{Num(r.RecoveryTimeMs)} ms");
        yield return ("collections", Collections(collections));
        if (checkpoint is not null)
        {
            yield return ("checkpoint written", $"sequence {checkpoint.Sequence}, covers LSN {Num(checkpoint.CoveredLsn)}, {Num(checkpoint.Bytes)} bytes");
        }
    }

    private static IEnumerable<(string, string)> PointInTimeRows(RecoveryStats r, PointInTimeResult pitr, IReadOnlyList<CollectionInfo> collections)
    {
        yield return ("new database", pitr.Directory);
        yield return ("recovered through LSN", Num(pitr.TargetLsn));
        yield return ("started from", r.CheckpointLsn > 0 ? $"the checkpoint covering LSN {Num(r.CheckpointLsn)}" : "the start of the WAL (no checkpoint)");
        yield return ("WAL records read after it", Num(r.TotalEntries));
        yield return ("applied", Num(r.AppliedEntries));
        yield return ("skipped (markers, uncommitted transactions)", Num(r.SkippedEntries));
        if (pitr.Target.Time is not null)
        {
            yield return ("target time inside a frozen clock window", r.FrozenClockWindows.Count == 0 ? "no" : string.Join("; ", r.FrozenClockWindows.Select(w => $"LSN {Num(w.FromLsn)} to {Num(w.ToLsn)} (none restored; use --to-lsn)")));
        }

        yield return ("time", $"{Num(r.RecoveryTimeMs)} ms");
        yield return ("collections", Collections(collections));
    }

    private static string Collections(IReadOnlyList<CollectionInfo> collections) =>
        collections.Count == 0 ? "none" : string.Join(", ", collections.Select(c => $"{c.Name} ({Plural(c.Count, "record")})"));

    private static void WriteJson(
        Request request, RecoveryStats s, WalOpenReport? open, CheckpointInfo? checkpoint, IReadOnlyList<CollectionInfo> collections, PointInTimeResult? pitr)
    {
        using var stdout = new StdOut();
        using var lines = new JsonLines(stdout.Stream);
        lines.WriteObject(json =>
        {
            json.WriteString("mode", pitr is null ? "crash" : "point_in_time");
            json.WriteString("data_directory", Path.GetFullPath(request.Data));
            json.WriteString("wal_directory", request.WalDirectory);
            json.WriteNumber("total_entries", s.TotalEntries);
            json.WriteNumber("applied_entries", s.AppliedEntries);
            json.WriteNumber("skipped_entries", s.SkippedEntries);
            json.WriteNumber("corrupted_entries", s.CorruptedEntries);
            json.WriteNumber("recovery_time_ms", s.RecoveryTimeMs);
            json.WriteNumber("checkpoint_lsn", s.CheckpointLsn);
            json.WriteNumber("torn_tail_bytes", s.TornTailBytes);
            json.WriteNumber("last_lsn", s.LastLsn);
            json.WriteStartArray("skipped_ranges");
            foreach (WalSkippedRange range in s.SkippedRanges)
            {
                json.WriteStartObject();
                json.WriteString("segment", range.SegmentFile);
                json.WriteNumber("offset", range.Offset);
                json.WriteNumber("from_lsn", range.FromLsn);
                json.WriteNumber("to_lsn", range.ToLsn);
                json.WriteNumber("records", range.Records);
                json.WriteNumber("bytes", range.Bytes);
                json.WriteString("reason", range.Reason);
                WriteNullable(json, "quarantine_file", range.QuarantineFile);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            if (open is not null)
            {
                WriteNullable(json, "torn_tail_file", open.TornTailFile);
                WriteNullable(json, "torn_tail_quarantine_file", open.TornTailQuarantineFile);
                WriteNullable(json, "aborted_transaction_lsn", open.AbortedTransactionLsn);
            }

            if (pitr is not null)
            {
                json.WriteString("target", pitr.Directory);
                json.WriteNumber("target_lsn", pitr.TargetLsn);
                json.WriteStartArray("frozen_clock_windows");
                foreach (FrozenClockWindow window in s.FrozenClockWindows)
                {
                    json.WriteStartObject();
                    json.WriteNumber("from_lsn", window.FromLsn);
                    json.WriteNumber("to_lsn", window.ToLsn);
                    json.WriteString("frozen_timestamp", RecordFormat.Timestamp(window.FrozenTimestamp));
                    json.WriteString("wall_clock_at_step", RecordFormat.Timestamp(window.WallClockAtStep));
                    json.WriteEndObject();
                }

                json.WriteEndArray();
                if (pitr.Target.Lsn is { } lsn)
                {
                    json.WriteNumber("to_lsn", lsn);
                }
                else
                {
                    json.WriteString("to_time", RecordFormat.Timestamp(pitr.Target.Time!.Value));
                }
            }

            if (checkpoint is not null)
            {
                json.WriteStartObject("checkpoint");
                json.WriteNumber("sequence", checkpoint.Sequence);
                json.WriteNumber("covered_lsn", checkpoint.CoveredLsn);
                json.WriteNumber("bytes", checkpoint.Bytes);
                json.WriteString("path", checkpoint.Path);
                json.WriteEndObject();
            }
            else if (pitr is null)
            {
                json.WriteNull("checkpoint");
            }

            json.WriteStartArray("collections");
            foreach (CollectionInfo c in collections)
            {
                json.WriteStartObject();
                json.WriteString("name", c.Name);
                json.WriteNumber("count", c.Count);
                json.WriteEndObject();
            }

            json.WriteEndArray();
        });
    }

    private static void WriteNullable(Utf8JsonWriter json, string name, string? value)
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

    private static void WriteNullable(Utf8JsonWriter json, string name, long? value)
    {
        if (value is { } number)
        {
            json.WriteNumber(name, number);
        }
        else
        {
            json.WriteNull(name);
        }
    }

    private static string Plural(long count, string noun) => $"{Num(count)} {noun}{(count == 1 ? "" : "s")}";

    private static string Num(long value) => StoreOptions.Num(value);
}
