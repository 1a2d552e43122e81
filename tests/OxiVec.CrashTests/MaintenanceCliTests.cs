using System.Globalization;
using System.Text.Json;
using OxiVec.CrashTests.Infrastructure;
using OxiVec.Storage;
using OxiVec.Wal;

namespace OxiVec.CrashTests;

/// <summary>
/// The maintenance commands of the <c>oxivec</c> CLI (recover, checkpoint, wal cleanup, health) driven as child
/// processes: their JSON, their exit codes, and that they change exactly what they say.
/// </summary>
public sealed class MaintenanceCliTests
{
    private static readonly string[] RecoverKeys =
        ["total_entries", "applied_entries", "skipped_entries", "corrupted_entries", "recovery_time_ms", "checkpoint_lsn", "torn_tail_bytes"];

    // ---- recover ----

    [Fact]
    public async Task Recover_JsonHasTheStatsKeys_PlainTextTheSameFigures()
    {
        using var dir = new TempDirectory();
        await Ok("load", "--data", dir.Path, "--collection", "c", "--dim", "4", "--count", "60", "--sync-interval-ms", "0", "--checkpoint-interval", "25");

        JsonElement json = Json(await Ok("recover", "--data", dir.Path, "--json"));
        CliResult plain = await Ok("recover", "--data", dir.Path);

        foreach (string key in RecoverKeys)
        {
            Assert.Equal(JsonValueKind.Number, json.GetProperty(key).ValueKind);
        }

        Assert.Equal("crash", json.GetProperty("mode").GetString());
        long checkpointLsn = json.GetProperty("checkpoint_lsn").GetInt64();
        Assert.True(checkpointLsn > 0, "load --checkpoint-interval 25 wrote checkpoints; recovery should start from one.");
        Assert.Equal(json.GetProperty("last_lsn").GetInt64() - checkpointLsn, json.GetProperty("total_entries").GetInt64());
        Assert.Equal(0, json.GetProperty("corrupted_entries").GetInt64());
        Assert.Equal(0, json.GetProperty("skipped_ranges").GetArrayLength());
        Assert.Equal(60, json.GetProperty("collections")[0].GetProperty("count").GetInt32());
        Assert.Equal("", plain.Stderr);
        Assert.Contains($"started from: the checkpoint covering LSN {checkpointLsn:N0}\n", plain.Stdout);
        Assert.Contains("corrupted (skipped, lost): 0\n", plain.Stdout);
        Assert.Contains("collections: c (60 records)\n", plain.Stdout);
    }

    [Fact]
    public async Task Recover_ToLsnAndToTime_MatchTheExportTakenAtThatMoment_SourceUntouched()
    {
        using var dir = new TempDirectory();
        string data = dir.Sub("data");
        await Ok("load", "--data", data, "--collection", "c", "--dim", "5", "--count", "40", "--metric", "l2");
        await Ok("checkpoint", "--data", data);
        await Ok("load", "--data", data, "--collection", "c", "--dim", "5", "--count", "10", "--start", "40", "--batch", "5", "--metric", "l2");

        // The moment: what export prints now, and the LSN the WAL ends at.
        string atTheMoment = (await Ok("export", "--data", data, "--collection", "c")).Stdout;
        long lsn = (await Stats(data)).GetProperty("wal").GetProperty("last_lsn").GetInt64();

        // Afterwards: an update of v3 and a new record, more records, another checkpoint.
        string changes = dir.Sub("changes.jsonl");
        File.WriteAllLines(changes, ["""{"id": "v3", "vector": [9, 9, 9, 9, 9]}""", """{"id": "new", "vector": [1, 2, 3, 4, 5]}"""]);
        await Ok("import", "--data", data, "--collection", "c", "--file", changes, "--upsert");
        await Ok("load", "--data", data, "--collection", "c", "--dim", "5", "--count", "10", "--start", "50", "--metric", "l2");
        await Ok("checkpoint", "--data", data);
        string now = (await Ok("export", "--data", data, "--collection", "c")).Stdout;
        Assert.NotEqual(atTheMoment, now);

        JsonElement byLsn = Json(await Ok("recover", "--data", data, "--to-lsn", lsn.ToString(CultureInfo.InvariantCulture), "--target", dir.Sub("by-lsn"), "--json"));
        string timestamp = Json(await Ok("wal", "dump", "--wal", Path.Combine(data, "wal"), "--json", "--from-lsn", lsn.ToString(CultureInfo.InvariantCulture)), firstLineOnly: true)
            .GetProperty("timestamp").GetString()!;
        CliResult byTime = await Ok("recover", "--data", data, "--to-time", timestamp, "--target", dir.Sub("by-time"));

        Assert.Equal("point_in_time", byLsn.GetProperty("mode").GetString());
        Assert.Equal(lsn, byLsn.GetProperty("target_lsn").GetInt64());
        Assert.True(byLsn.GetProperty("checkpoint_lsn").GetInt64() > 0, "the first checkpoint precedes the target: recovery should start from it.");
        foreach (string key in RecoverKeys)
        {
            Assert.Equal(JsonValueKind.Number, byLsn.GetProperty(key).ValueKind);
        }

        Assert.Equal(atTheMoment, (await Ok("export", "--data", dir.Sub("by-lsn"), "--collection", "c")).Stdout);
        Assert.Contains($"recovered through LSN: {lsn:N0}\n", byTime.Stdout);
        Assert.Equal(atTheMoment, (await Ok("export", "--data", dir.Sub("by-time"), "--collection", "c")).Stdout);
        Assert.Equal(now, (await Ok("export", "--data", data, "--collection", "c")).Stdout);
    }

    [Fact]
    public async Task Recover_PointInTimeOlderThanRetained_ExitsOneWithTheEnginesMessage_AndLeavesNoTarget()
    {
        using var dir = new TempDirectory();
        string data = dir.Sub("data");
        using (var db = VectorDatabase.Open(data, SmallSegments(RetentionPolicy.KeepLast(1))))
        {
            db.CreateCollection("docs", new CollectionOptions(8));
            Insert(db, "docs", 0, 2000);
            Assert.True(db.Checkpoint().SegmentsRemoved > 0, "the checkpoint should have removed WAL segments.");
        }

        CliResult result = await CliProcess.RunAsync("recover", "--data", data, "--to-lsn", "1", "--target", dir.Sub("old"));

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Equal("", result.Stdout);
        string error = ErrorLine(result);
        Assert.Contains("cannot recover to LSN 1", error);
        Assert.Contains("the oldest reachable point is LSN", error);
        Assert.False(Directory.Exists(dir.Sub("old")));
    }

    [Theory]
    [InlineData("--to-time|yesterday|--target|T", "--to-time 'yesterday' is not an ISO 8601 time")]
    [InlineData("--to-time|2026-13-01T00:00:00Z|--target|T", "is not an ISO 8601 time")]
    [InlineData("--to-lsn|5|--to-time|2026-01-01T00:00:00Z|--target|T", "give --to-time or --to-lsn, not both")]
    [InlineData("--to-lsn|5", "give its directory with --target DIR")]
    [InlineData("--target|T", "give --to-time or --to-lsn with it")]
    [InlineData("--to-lsn|5|--target|T|--skip-corrupted", "are for crash recovery")]
    [InlineData("--to-lsn|5|--target|NONEMPTY", "is not empty")]
    [InlineData("--to-lsn|100000|--target|T", "is after the end of the log")]
    public async Task Recover_BadOptions_ExitOneWithOneLine(string arguments, string expected)
    {
        using var dir = new TempDirectory();
        string data = dir.Sub("data");
        await Ok("load", "--data", data, "--collection", "c", "--dim", "3", "--count", "5");
        Directory.CreateDirectory(dir.Sub("NONEMPTY"));
        File.WriteAllText(Path.Combine(dir.Sub("NONEMPTY"), "keep.txt"), "mine");
        string[] args = [.. arguments.Split('|').Select(a => a is "T" or "NONEMPTY" ? dir.Sub(a) : a)];

        CliResult result = await CliProcess.RunAsync(["recover", "--data", data, .. args]);

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains(expected, ErrorLine(result));
        Assert.False(Directory.Exists(dir.Sub("T")));
        Assert.Equal("mine", File.ReadAllText(Path.Combine(dir.Sub("NONEMPTY"), "keep.txt")));
    }

    [Fact]
    public async Task Recover_MissingDatabase_ExitsOneAndCreatesNothing()
    {
        using var dir = new TempDirectory();
        string missing = dir.Sub("nothing");

        CliResult result = await CliProcess.RunAsync("recover", "--data", missing);

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains($"data directory '{missing}' does not exist", ErrorLine(result));
        Assert.False(Directory.Exists(missing));
    }

    [Fact]
    public async Task Recover_FlippedByteInSealedSegment_ExitsTwo_SkipCorruptedRecoversLoudly_CheckpointMakesItOpenAgain()
    {
        using var dir = new TempDirectory();
        string data = dir.Sub("data"), wal = Path.Combine(dir.Sub("data"), "wal");
        using (var db = VectorDatabase.Open(data, SmallSegments()))
        {
            db.CreateCollection("docs", new CollectionOptions(8) { Index = IndexKind.Flat });
            Insert(db, "docs", 0, 2000);
        }

        Assert.True(TestWal.Segments(wal).Length >= 3, "The WAL must have segments after the damaged one.");
        (string segment, long offset) = TestWal.FlipByteInFirstSegment(wal);

        CliResult strict = await CliProcess.RunAsync("recover", "--data", data, "--json");
        CliResult skipping = await CliProcess.RunAsync("recover", "--data", data, "--skip-corrupted", "--json");
        CliResult stillDamaged = await CliProcess.RunAsync("stats", "--data", data);
        CliResult sealedOff = await CliProcess.RunAsync("recover", "--data", data, "--skip-corrupted", "--checkpoint");
        CliResult reopened = await CliProcess.RunAsync("stats", "--data", data, "--json");

        Assert.True(strict.ExitCode == 2, strict.ToString());
        Assert.Equal("", strict.Stdout);
        string error = ErrorLine(strict);
        Assert.Contains(segment, error);
        Assert.Contains($"at byte offset {offset}", error);
        Assert.Contains("--skip-corrupted", error);

        Assert.True(skipping.ExitCode == 0, skipping.ToString());
        JsonElement json = Json(skipping);
        Assert.True(json.GetProperty("corrupted_entries").GetInt64() >= 1);
        JsonElement range = json.GetProperty("skipped_ranges")[0];
        Assert.Equal(segment, range.GetProperty("segment").GetString());
        Assert.Equal(offset, range.GetProperty("offset").GetInt64());
        string quarantined = $"quarantine/{segment}.{offset}.broken";
        Assert.Equal(quarantined, range.GetProperty("quarantine_file").GetString()); // the skipped bytes are kept, durably
        Assert.Equal(range.GetProperty("bytes").GetInt64(), new FileInfo(Path.Combine(wal, quarantined)).Length);
        string[] warnings = [.. skipping.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)];
        Assert.Contains(warnings, w => w.StartsWith("oxivec: warning: SKIPPED corrupted WAL records: LSN ", StringComparison.Ordinal)
            && w.Contains($"in {segment} at byte offset {offset}", StringComparison.Ordinal) && w.Contains(quarantined, StringComparison.Ordinal)
            && w.EndsWith("Their writes are lost.", StringComparison.Ordinal));
        Assert.Contains(warnings, w => w.Contains("rerun with --checkpoint", StringComparison.Ordinal));
        Assert.Equal(json.GetProperty("skipped_ranges").GetArrayLength() + 1, warnings.Length);

        Assert.True(stillDamaged.ExitCode == 2, "skipping does not repair: a normal open still stops at the damage. " + stillDamaged);
        Assert.True(sealedOff.ExitCode == 0, sealedOff.ToString());
        Assert.Contains("checkpoint written: sequence 1", sealedOff.Stdout);
        Assert.True(reopened.ExitCode == 0, reopened.ToString());
        Assert.Equal(1999, Json(reopened).GetProperty("collections")[0].GetProperty("count").GetInt32());
    }

    // ---- checkpoint ----

    [Fact]
    public async Task Checkpoint_JsonReportsIt_NextOpenStartsFromIt_KeepLastDeletesOlderOnes()
    {
        using var dir = new TempDirectory();
        await Ok("load", "--data", dir.Path, "--collection", "c", "--dim", "4", "--count", "50");

        JsonElement first = Json(await Ok("checkpoint", "--data", dir.Path, "--json"));
        Assert.True(Directory.Exists(first.GetProperty("path").GetString()));
        await Ok("checkpoint", "--data", dir.Path);
        JsonElement third = Json(await Ok("checkpoint", "--data", dir.Path, "--keep-last", "1", "--json"));
        CliResult plain = await Ok("checkpoint", "--data", dir.Path);
        JsonElement stats = await Stats(dir.Path);

        Assert.Equal(
            ["sequence", "covered_lsn", "path", "bytes", "duration_ms", "write_stall_ms", "segments_removed", "segments_compressed", "created"],
            first.EnumerateObject().Select(p => p.Name));
        Assert.Equal(1, first.GetProperty("sequence").GetInt64());
        Assert.Equal(51, first.GetProperty("covered_lsn").GetInt64()); // create collection + 50 inserts
        Assert.True(first.GetProperty("bytes").GetInt64() > 50 * 4 * 4);
        Assert.False(Directory.Exists(first.GetProperty("path").GetString())); // --keep-last 1 deleted it
        Assert.Equal(3, third.GetProperty("sequence").GetInt64());
        Assert.Contains("sequence: 4\n", plain.Stdout);
        Assert.Contains("WAL segments removed: 0 (no --keep-last)\n", plain.Stdout);
        Assert.Equal(2, Directory.GetDirectories(Path.Combine(dir.Path, "checkpoints")).Length); // the third kept only itself; the fourth deleted nothing
        Assert.Equal(4, stats.GetProperty("checkpoint").GetProperty("sequence").GetInt64());
        Assert.Equal(0, stats.GetProperty("recovery").GetProperty("applied_entries").GetInt64());
        Assert.Equal(50, stats.GetProperty("collections")[0].GetProperty("count").GetInt32());
    }

    [Fact]
    public async Task Checkpoint_Compress_CompressesSealedSegments_TheDatabaseStillOpens()
    {
        using var dir = new TempDirectory();
        using (var db = VectorDatabase.Open(dir.Path, SmallSegments()))
        {
            db.CreateCollection("docs", new CollectionOptions(8));
            Insert(db, "docs", 0, 1500);
        }

        int segments = TestWal.Segments(Path.Combine(dir.Path, "wal")).Length;
        JsonElement json = Json(await Ok("checkpoint", "--data", dir.Path, "--compress", "--json"));

        Assert.True(segments >= 2, "the WAL must have sealed segments to compress.");
        Assert.True(json.GetProperty("segments_compressed").GetInt32() >= segments - 1, json.ToString()); // every sealed one
        Assert.Equal(json.GetProperty("segments_compressed").GetInt32(), Directory.GetFiles(Path.Combine(dir.Path, "wal"), "*.walz").Length);
        Assert.Equal(0, json.GetProperty("segments_removed").GetInt32());
        Assert.Equal(1500, Json(await Ok("recover", "--data", dir.Path, "--json")).GetProperty("collections")[0].GetProperty("count").GetInt32());
        Assert.Equal(0, (await CliProcess.RunAsync("wal", "verify", "--wal", Path.Combine(dir.Path, "wal"))).ExitCode);
    }

    [Fact]
    public async Task Checkpoint_LockedOrMissingDatabase_ExitsOne()
    {
        using var dir = new TempDirectory();
        await Ok("load", "--data", dir.Path, "--collection", "c", "--dim", "3", "--count", "5");
        CliResult missing = await CliProcess.RunAsync("checkpoint", "--data", dir.Sub("nope"));
        CliResult badKeep = await CliProcess.RunAsync("checkpoint", "--data", dir.Path, "--keep-last", "0");
        CliResult locked;
        using (VectorDatabase.Open(dir.Path))
        {
            locked = await CliProcess.RunAsync("checkpoint", "--data", dir.Path);
        }

        Assert.True(missing.ExitCode == 1, missing.ToString());
        Assert.Contains("does not exist", ErrorLine(missing));
        Assert.True(badKeep.ExitCode == 1, badKeep.ToString());
        Assert.Contains("--keep-last must be 1 or more", ErrorLine(badKeep));
        Assert.True(locked.ExitCode == 1, locked.ToString());
        Assert.Contains("is in use by another process", ErrorLine(locked));
        Assert.False(Directory.Exists(Path.Combine(dir.Path, "checkpoints")));
    }

    // ---- wal cleanup ----

    [Fact]
    public async Task WalCleanup_WithoutDataOrRetainFromLsn_RefusesAndDeletesNothing()
    {
        using var dir = new TempDirectory();
        TestWal.Create(dir.Path);
        string[] before = TestWal.Segments(dir.Path);

        CliResult result = await CliProcess.RunAsync("wal", "cleanup", "--wal", dir.Path, "--older-than-days", "0");

        Assert.True(result.ExitCode == 1, result.ToString());
        string error = ErrorLine(result);
        Assert.Contains("cannot know which segments recovery still needs", error);
        Assert.Contains("--data", error);
        Assert.Contains("--retain-from-lsn", error);
        Assert.Equal(before, TestWal.Segments(dir.Path));
    }

    [Fact]
    public async Task WalCleanup_RetainFromLsn_DeletesOnlyTheSegmentsBeforeIt()
    {
        using var dir = new TempDirectory();
        long last = TestWal.Create(dir.Path, inserts: 3000);
        string[] segments = TestWal.Segments(dir.Path);
        Assert.True(segments.Length >= 4, $"{segments.Length} segments");
        long thirdStarts = new WalReader(dir.Path).ReadRecords().First(r => r.SegmentFile == Path.GetFileName(segments[2])).Lsn;
        string retain = (thirdStarts + 5).ToString(CultureInfo.InvariantCulture);

        CliResult young = await Ok("wal", "cleanup", "--wal", dir.Path, "--older-than-days", "7", "--retain-from-lsn", retain);
        JsonElement json = Json(await Ok("wal", "cleanup", "--wal", dir.Path, "--older-than-days", "0", "--retain-from-lsn", retain, "--json"));

        Assert.Contains("deleted: nothing\n", young.Stdout);
        Assert.Equal(2, json.GetProperty("deleted").GetInt32());
        Assert.Equal(segments[..2].Select(Path.GetFileName), json.GetProperty("deleted_files").EnumerateArray().Select(f => f.GetString()));
        Assert.Equal(thirdStarts, json.GetProperty("first_lsn").GetInt64());
        Assert.Equal(segments[2..], TestWal.Segments(dir.Path));
        WalVerifyReport verify = new WalReader(dir.Path).Verify();
        Assert.True(verify.IsValid);
        Assert.Equal(last, verify.Segments[^1].LastLsn);
    }

    [Fact]
    public async Task WalCleanup_AfterAnInterruptedCompression_RemovesTheCompressedTwinFirst_TheWalStillOpens()
    {
        using var dir = new TempDirectory();
        long last = TestWal.Create(dir.Path, inserts: 3000);
        string[] segments = TestWal.Segments(dir.Path);
        var storage = new FileSystemWalStorage(dir.Path);
        WalSegmentCompression.Compress(storage, Path.GetFileName(segments[0]), f => f.Sync(), storage.SyncDirectory); // the original not yet deleted
        long thirdStarts = new WalReader(dir.Path).ReadRecords().First(r => r.SegmentFile == Path.GetFileName(segments[2])).Lsn;

        JsonElement json = Json(await Ok(
            "wal", "cleanup", "--wal", dir.Path, "--older-than-days", "0", "--retain-from-lsn", thirdStarts.ToString(CultureInfo.InvariantCulture), "--json"));

        Assert.Equal(2, json.GetProperty("deleted").GetInt32());
        Assert.Empty(storage.ListFiles(WalSegmentCompression.Suffix));
        Assert.Equal(segments[2..], TestWal.Segments(dir.Path));
        using var wal = WalManager.Open(new WalConfig { WalDir = dir.Path, SyncIntervalMs = 0, SegmentSizeBytes = TestWal.SegmentSize });
        Assert.Equal(thirdStarts, wal.FirstLsn);
        Assert.Equal(last, wal.LastLsn);
    }

    [Fact]
    public async Task WalCleanup_WithData_KeepsWhatTheCheckpointsNeed_TheDatabaseOpensWithEverything()
    {
        using var dir = new TempDirectory();
        string wal = Path.Combine(dir.Path, "wal");
        long covered;
        using (var db = VectorDatabase.Open(dir.Path, SmallSegments()))
        {
            db.CreateCollection("docs", new CollectionOptions(8) { Index = IndexKind.Flat });
            Insert(db, "docs", 0, 1500);
            covered = db.Checkpoint().CoveredLsn;
            Insert(db, "docs", 1500, 600);
        }

        string[] before = TestWal.Segments(wal);
        JsonElement json = Json(await Ok("wal", "cleanup", "--wal", wal, "--data", dir.Path, "--older-than-days", "0", "--json"));
        string[] after = TestWal.Segments(wal);

        Assert.Equal(covered + 1, json.GetProperty("retain_from_lsn").GetInt64());
        Assert.True(json.GetProperty("deleted").GetInt32() >= 1, json.ToString());
        Assert.Equal(before.Length - json.GetProperty("deleted").GetInt32(), after.Length);
        long firstKept = new WalReader(wal).ReadRecords().First().Lsn;
        Assert.True(firstKept <= covered + 1, $"the WAL now starts at LSN {firstKept}; recovery from the checkpoint needs LSN {covered + 1}.");
        Assert.Equal(firstKept, json.GetProperty("first_lsn").GetInt64());
        JsonElement stats = await Stats(dir.Path);
        Assert.Equal(2100, stats.GetProperty("collections")[0].GetProperty("count").GetInt32());
        Assert.Equal(covered, stats.GetProperty("recovery").GetProperty("checkpoint_lsn").GetInt64());
    }

    [Fact]
    public async Task WalCleanup_WalInUse_ExitsOneWithOneLine()
    {
        using var dir = new TempDirectory();
        await Ok("load", "--data", dir.Path, "--collection", "c", "--dim", "3", "--count", "5");
        CliResult result;
        using (VectorDatabase.Open(dir.Path))
        {
            result = await CliProcess.RunAsync("wal", "cleanup", "--wal", Path.Combine(dir.Path, "wal"), "--data", dir.Path, "--older-than-days", "0");
        }

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("is in use by another process", ErrorLine(result));
    }

    // ---- health ----

    [Fact]
    public async Task Health_FreshDatabase_IsHealthyOfWhatItJudged_ExitsZero_AndSaysItsLatenciesHaveNoSamples()
    {
        using var dir = new TempDirectory();
        await Ok("load", "--data", dir.Path, "--collection", "c", "--dim", "4", "--count", "20");

        CliResult plain = await Ok("health", "--data", dir.Path);
        JsonElement json = Json(await Ok("health", "--data", dir.Path, "--json"));
        CliResult stats = await Ok("stats", "--data", dir.Path);
        JsonElement statsJson = (await Stats(dir.Path)).GetProperty("wal");

        Assert.Contains("status: healthy (of the figures judged; 3 not judged", plain.Stdout);
        Assert.Contains("fsync latency: no samples in the last minute", plain.Stdout);
        Assert.Contains("not judged: sync latency: no samples", plain.Stdout);
        Assert.Contains("not judged: entries per second: the baseline covers", plain.Stdout);
        Assert.Contains("findings: none\n", plain.Stdout);
        Assert.Contains("latencies and the entry rate are this process's own", plain.Stdout);
        Assert.Equal("healthy", json.GetProperty("status").GetString());
        Assert.False(json.GetProperty("judged_all").GetBoolean());
        Assert.Equal(3, json.GetProperty("not_judged").GetArrayLength());
        Assert.Equal(0, json.GetProperty("findings").GetArrayLength());
        JsonElement metrics = json.GetProperty("metrics");
        Assert.Equal(WalConfig.Default.MaxWalSize, metrics.GetProperty("max_size_bytes").GetInt64());
        Assert.True(metrics.GetProperty("size_bytes").GetInt64() > 0);
        Assert.Equal(0, metrics.GetProperty("sync_samples").GetInt32());
        Assert.Equal(0, metrics.GetProperty("avg_sync_latency_ms").GetDouble());
        Assert.Contains("wal health: healthy (of the figures judged; 3 not judged", stats.Stdout);
        Assert.Contains("wal fsync latency avg / p99: no samples in the last minute", stats.Stdout);
        Assert.False(statsJson.GetProperty("health_judged_all").GetBoolean());
        Assert.Equal(0, statsJson.GetProperty("sync_samples").GetInt32());
        Assert.Contains("latencies and the entry rate are this process's own", json.GetProperty("note").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Health_DatabaseOpenInAnotherProcess_ExitsFour_NotAWarning(bool json)
    {
        using var dir = new TempDirectory();
        await Ok("load", "--data", dir.Path, "--collection", "c", "--dim", "3", "--count", "5");
        CliResult result;
        using (VectorDatabase.Open(dir.Path))
        {
            result = await CliProcess.RunAsync(json ? ["health", "--data", dir.Path, "--json"] : ["health", "--data", dir.Path]);
        }

        Assert.True(result.ExitCode == 4, result.ToString());
        Assert.Contains("is in use by another process", ErrorLine(result));
        Assert.Contains("nothing was checked", ErrorLine(result));
        if (json)
        {
            Assert.Equal("in_use", Json(result).GetProperty("status").GetString());
        }
        else
        {
            Assert.Equal("", result.Stdout);
        }
    }

    [Fact]
    public async Task Health_IdleDatabaseWhoseLastRecordIsAnHoursOldCheckpoint_IsHealthy()
    {
        using var dir = new TempDirectory();
        var twoHoursAgo = new ShiftedClock(TimeSpan.FromHours(-2));
        using (var db = VectorDatabase.Open(dir.Path, SmallSegments(clock: twoHoursAgo)))
        {
            db.CreateCollection("docs", new CollectionOptions(8));
            Insert(db, "docs", 0, 10);
            db.Checkpoint();
        }

        CliResult result = await CliProcess.RunAsync("health", "--data", dir.Path, "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        JsonElement json = Json(result);
        Assert.Equal("healthy", json.GetProperty("status").GetString());
        Assert.InRange(json.GetProperty("metrics").GetProperty("last_checkpoint_age_seconds").GetDouble(), 7100, 7300);
        Assert.Equal(JsonValueKind.Null, json.GetProperty("metrics").GetProperty("oldest_uncovered_record_age_seconds").ValueKind);
    }

    [Fact]
    public async Task Health_WalNearItsMaximum_WarningExitsOne_CriticalExitsTwo()
    {
        using var dir = new TempDirectory();
        await Ok("load", "--data", dir.Path, "--collection", "c", "--dim", "16", "--count", "800");
        long size = Json(await Ok("health", "--data", dir.Path, "--json")).GetProperty("metrics").GetProperty("size_bytes").GetInt64();
        Assert.True(size > WalConfig.MinSegmentSizeBytes, $"the WAL holds {size} bytes; the test needs more than 64 KiB.");

        CliResult warning = await CliProcess.RunAsync("health", "--data", dir.Path, "--max-wal-size", ((long)(size / 0.85)).ToString(CultureInfo.InvariantCulture));
        CliResult critical = await CliProcess.RunAsync("health", "--data", dir.Path, "--max-wal-size", WalConfig.MinSegmentSizeBytes.ToString(CultureInfo.InvariantCulture), "--json");

        Assert.True(warning.ExitCode == 1, warning.ToString());
        Assert.Contains("status: warning (of the figures judged; 3 not judged", warning.Stdout);
        Assert.Contains("finding: Warning: WAL size", warning.Stdout);
        Assert.Equal("", warning.Stderr);
        Assert.True(critical.ExitCode == 2, critical.ToString());
        Assert.Equal("critical", Json(critical).GetProperty("status").GetString());
        Assert.Contains("over 90%", Json(critical).GetProperty("findings")[0].GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Health_RecordsAfterACheckpointTwoHoursOld_AreCritical_EvenWhenTheSegmentRotatedSince(bool rotatedSince)
    {
        using var dir = new TempDirectory();
        var twoHoursAgo = new ShiftedClock(TimeSpan.FromHours(-2));
        using (var db = VectorDatabase.Open(dir.Path, SmallSegments(clock: twoHoursAgo)))
        {
            db.CreateCollection("docs", new CollectionOptions(8));
            Insert(db, "docs", 0, 10);
            db.Checkpoint();
            Insert(db, "docs", 10, rotatedSince ? 1500 : 10);
        }

        Assert.Equal(rotatedSince, TestWal.Segments(Path.Combine(dir.Path, "wal")).Length > 1);
        CliResult result = await CliProcess.RunAsync("health", "--data", dir.Path, "--json");

        Assert.True(result.ExitCode == 2, result.ToString());
        JsonElement json = Json(result);
        Assert.Equal("critical", json.GetProperty("status").GetString());
        Assert.Contains("not covered by a checkpoint (last checkpoint 12", json.GetProperty("findings")[0].GetString(), StringComparison.Ordinal); // 120 minutes, give or take one
        Assert.InRange(json.GetProperty("metrics").GetProperty("last_checkpoint_age_seconds").GetDouble(), 7100, 7300);
    }

    // ---- helpers ----

    /// <summary>Small segments (so a few thousand records span several), fsync every second (fast), nothing deleted.</summary>
    private static VectorDatabaseOptions SmallSegments(RetentionPolicy? retention = null, TimeProvider? clock = null) => new()
    {
        Wal = WalConfig.Default with
        {
            SegmentSizeBytes = WalConfig.MinSegmentSizeBytes,
            MaxWalSize = 64 << 20,
            RetentionPolicy = retention ?? RetentionPolicy.KeepAll,
            CheckpointInterval = 1_000_000,
        },
        TimeProvider = clock,
    };

    /// <summary>Inserts <c>v{from}</c> .. one insert (one WAL record) each.</summary>
    private static void Insert(VectorDatabase db, string collection, int from, int count)
    {
        for (int i = from; i < from + count; i++)
        {
            db.Insert(collection, $"v{i}", DocumentedVectors.Vector(11, i, 8), new Dictionary<string, MetadataValue> { ["i"] = (long)i });
        }
    }

    /// <summary>The system clock moved by a fixed offset (WAL record timestamps in the past).</summary>
    private sealed class ShiftedClock(TimeSpan offset) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + offset;
    }

    private static async Task<CliResult> Ok(params string[] arguments)
    {
        CliResult result = await CliProcess.RunAsync(arguments);
        Assert.True(result.ExitCode == 0, $"oxivec {string.Join(' ', arguments)}: {result}");
        return result;
    }

    private static async Task<JsonElement> Stats(string data) => Json(await Ok("stats", "--data", data, "--json"));

    private static JsonElement Json(CliResult result, bool firstLineOnly = false)
    {
        string text = firstLineOnly ? result.Stdout.Split('\n')[0] : result.Stdout;
        using JsonDocument doc = JsonDocument.Parse(text);
        return doc.RootElement.Clone();
    }

    /// <summary>The single stderr line of a failed run (it starts with "oxivec: ").</summary>
    private static string ErrorLine(CliResult result)
    {
        string line = Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("oxivec: ", line);
        return line;
    }
}
