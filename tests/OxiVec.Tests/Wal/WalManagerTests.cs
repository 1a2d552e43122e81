using OxiVec.Tests.Fakes;
using OxiVec.Wal;
using static OxiVec.Tests.Wal.WalTestHelpers;

namespace OxiVec.Tests.Wal;

public sealed class WalManagerTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Rotation_UsesSpares_AndLeavesNoTemporaryFile(bool zeroFill)
    {
        using var temp = new TempDirectory();
        const int Records = 1_000; // about 600 bytes each: nine 64 KiB segments
        int sparesUsed;
        using (var wal = WalManager.Open(Config(temp.Path) with { ZeroFillSegments = zeroFill }))
        {
            for (int n = 1; n <= Records; n++)
            {
                wal.Append(InsertFor(n, 128));
                if (n == 40)
                {
                    // A quarter-full segment has started filling a spare, which races the next rotation: waiting
                    // until it is ready (not timing the race) makes the first rotation take it on a loaded machine.
                    Assert.Equal(1, wal.GetMetrics().SegmentCount);
                    Assert.True(SpinWait.SpinUntil(() => wal.SpareReady, TimeSpan.FromSeconds(60)), "no spare was ever filled");
                }
            }

            sparesUsed = wal.SparesUsed;
            Assert.True(wal.GetMetrics().SegmentCount >= 8);
        }

        Assert.True(sparesUsed >= 1, "the ready spare was not used by the first rotation");
        Assert.Empty(Directory.GetFiles(temp.Path, "*" + WalSegmentName.TempSuffix));
        using var reopened = WalManager.Open(Config(temp.Path) with { ZeroFillSegments = zeroFill });
        Assert.Equal(Enumerable.Range(1, Records).Select(n => (long)n), reopened.ReadRecords().Select(r => r.Lsn));
        foreach (WalRecord record in reopened.ReadRecords())
        {
            Assert.Equal(VectorFor(record.Lsn, 128), ((WalEntry.Insert)record.ToEntry()).Vector.ToArray());
        }
    }

    [Fact]
    public void Transaction_Commit_WritesBeginMembersCommitContiguously()
    {
        using var temp = new TempDirectory();
        using var wal = WalManager.Open(Config(temp.Path));
        wal.Append(InsertFor(1));
        using (WalTransaction tx = wal.BeginTransaction())
        {
            tx.LogInsert("docs", "a", VectorFor(2));
            tx.LogDelete("docs", "v1");
            tx.LogCustom("rename", new byte[] { 1, 2 });
            Assert.Equal(6, tx.Commit());
        }

        List<WalRecord> records = [.. wal.ReadRecords()];
        Assert.Equal(
            [WalRecordType.Insert, WalRecordType.TransactionBegin, WalRecordType.Insert, WalRecordType.Delete, WalRecordType.Custom, WalRecordType.TransactionCommit],
            records.Select(r => r.Type));
        Assert.Equal(
            [WalRecordFlags.None, WalRecordFlags.None, WalRecordFlags.TransactionMember, WalRecordFlags.TransactionMember, WalRecordFlags.TransactionMember, WalRecordFlags.None],
            records.Select(r => r.Flags));
        var commit = Assert.IsType<WalEntry.TransactionCommit>(records[^1].ToEntry());
        Assert.Equal(2, commit.BeginLsn);
        Assert.Equal(3, commit.EntryCount);
        Assert.Equal(6, wal.DurableLsn);
    }

    [Fact]
    public void Transaction_DisposedWithoutCommit_WritesNothing()
    {
        using var temp = new TempDirectory();
        using var wal = WalManager.Open(Config(temp.Path));
        using (WalTransaction tx = wal.BeginTransaction())
        {
            tx.LogInsert("docs", "a", VectorFor(1));
        }

        WalTransaction rolledBack = wal.BeginTransaction();
        rolledBack.LogDelete("docs", "a");
        rolledBack.Rollback();
        Assert.Throws<InvalidOperationException>(() => rolledBack.Commit());

        Assert.Equal(0, wal.LastLsn);
        Assert.Empty(wal.ReadRecords());
    }

    [Fact]
    public void Transaction_WithAnOversizedEntry_FailsWholeAndStaysUsable()
    {
        using var temp = new TempDirectory();
        using var wal = WalManager.Open(Config(temp.Path));
        using WalTransaction tx = wal.BeginTransaction();
        tx.LogInsert("docs", "small", VectorFor(1));
        tx.LogInsert("docs", "huge", new float[20_000]);

        var ex = Assert.Throws<ArgumentException>(() => tx.Commit());
        Assert.Contains("Entry 1", ex.Message, StringComparison.Ordinal);
        Assert.Contains("SegmentSizeBytes", ex.Message, StringComparison.Ordinal);
        Assert.Equal(0, wal.LastLsn);
        Assert.Equal(1, wal.Append(InsertFor(1)));
    }

    [Fact]
    public void Transaction_LargerThanASegment_SpansSegmentsAndReadsBack()
    {
        using var temp = new TempDirectory();
        using (var wal = WalManager.Open(Config(temp.Path)))
        using (WalTransaction tx = wal.BeginTransaction())
        {
            for (int n = 1; n <= 1500; n++)
            {
                tx.Add(InsertFor(n));
            }

            Assert.Equal(1502, tx.Commit());
            Assert.True(wal.GetMetrics().SegmentCount >= 3);
        }

        using (var wal = WalManager.Open(Config(temp.Path)))
        {
            Assert.Null(wal.OpenReport.AbortedTransactionLsn);
            Assert.Equal(1502, wal.ReadRecords().Count());
        }
    }

    [Fact]
    public void Open_TransactionWhoseCommitRecordWasTorn_LogsAnAbort()
    {
        var disk = new SimulatedDisk();
        using (var wal = WalManager.Open(disk, Config(disk.Directory)))
        {
            wal.Append(InsertFor(1));
            using WalTransaction tx = wal.BeginTransaction();
            for (int n = 2; n <= 5; n++)
            {
                tx.Add(InsertFor(n));
            }

            Assert.Equal(7, tx.Commit());
        }

        // The commit record (LSN 7) never reached the disk: its bytes read back as zeros.
        string segment = disk.ListFiles(".wal")[^1];
        byte[] bytes = disk.ReadAll(segment);
        int commitAt = LastRecordOffset(bytes);
        disk.Poke(segment, commitAt, new byte[bytes.Length - commitAt]);
        SetKnownDurableThrough(disk, segment, commitAt, 6); // nor had the control file recorded it durable

        using (var wal = WalManager.Open(disk, Config(disk.Directory)))
        {
            Assert.Equal(6, wal.OpenReport.LastLsn);
            Assert.Equal(2, wal.OpenReport.AbortedTransactionLsn);
            List<WalRecord> records = [.. wal.ReadRecords()];
            Assert.Equal(7, records[^1].Lsn);
            Assert.Equal(2, Assert.IsType<WalEntry.TransactionAbort>(records[^1].ToEntry()).BeginLsn);
        }
    }

    [Fact]
    public void Append_RecordLargerThanASegment_ThrowsAndWritesNothing()
    {
        using var temp = new TempDirectory();
        using var wal = WalManager.Open(Config(temp.Path));
        var ex = Assert.Throws<ArgumentException>(() => wal.LogInsert("docs", "big", new float[16_384]));
        Assert.Contains($"at most {wal.MaxEntryPayloadBytes} bytes", ex.Message, StringComparison.Ordinal);
        Assert.Equal(0, wal.LastLsn);
    }

    [Fact]
    public void Append_RecordFillingASegmentExactly_Fits()
    {
        using var temp = new TempDirectory();
        using (var wal = WalManager.Open(Config(temp.Path)))
        {
            wal.Append(InsertFor(1));
            wal.LogEntry(string.Empty, new byte[wal.MaxEntryPayloadBytes - 2]);
            wal.Append(InsertFor(3));
            Assert.Equal(3, wal.GetMetrics().SegmentCount);
        }

        using (var wal = WalManager.Open(Config(temp.Path)))
        {
            Assert.Equal(3, wal.ReadRecords().Count());
            Assert.True(wal.Verify().IsValid);
        }
    }

    [Fact]
    public void Rotation_SizeBased_StartsNewSegmentsNamedBySegmentAndLsn()
    {
        using var temp = new TempDirectory();
        List<WalRecord> records = WriteInserts(Config(temp.Path), 3000);
        string[] files = [.. Directory.GetFiles(temp.Path, "*.wal").Select(Path.GetFileName).Order()!];
        Assert.True(files.Length >= 4);
        foreach (IGrouping<string, WalRecord> segment in records.GroupBy(r => r.SegmentFile))
        {
            Assert.True(WalSegmentName.TryParse(segment.Key, out _, out long firstLsn));
            Assert.Equal(firstLsn, segment.First().Lsn);
            Assert.True(new FileInfo(Path.Combine(temp.Path, segment.Key)).Length <= 64 << 10);
        }
    }

    [Fact]
    public void Rotation_TimeBased_RotatesWhenTheSegmentIsOld()
    {
        using var temp = new TempDirectory();
        var clock = new ManualClock(DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        WalConfig config = Config(temp.Path) with { RotationPolicy = RotationPolicy.TimeBased(TimeSpan.FromHours(1)) };
        using var wal = WalManager.Open(config, timeProvider: clock);
        wal.Append(InsertFor(1));
        clock.Advance(TimeSpan.FromMinutes(59));
        wal.Append(InsertFor(2));
        Assert.Equal(1, wal.GetMetrics().SegmentCount);
        clock.Advance(TimeSpan.FromMinutes(2));
        wal.Append(InsertFor(3));
        Assert.Equal(2, wal.GetMetrics().SegmentCount);

        List<WalRecord> records = [.. wal.ReadRecords()];
        Assert.Equal(records[0].SegmentFile, records[1].SegmentFile);
        Assert.NotEqual(records[1].SegmentFile, records[2].SegmentFile);
        Assert.Equal(clock.GetUtcNow(), records[2].Timestamp);
    }

    [Fact]
    public void Open_SecondManagerOnTheSameDirectory_IsRefused()
    {
        using var temp = new TempDirectory();
        using var first = WalManager.Open(Config(temp.Path));
        var ex = Assert.Throws<WalLockedException>(() => WalManager.Open(Config(temp.Path)));
        Assert.Contains(temp.Path, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_FileThatIsNotAWal_ThrowsNamingIt()
    {
        using var temp = new TempDirectory();
        string path = Path.Combine(temp.Path, WalSegmentName.Format(1, 1));
        File.WriteAllText(path, "this is a text file, not a write-ahead log segment, but it is long enough for a header");

        var ex = Assert.Throws<WalCorruptionException>(() => WalManager.Open(Config(temp.Path)));
        Assert.Equal(path, ex.FilePath);
        Assert.Contains("not an OxiVec WAL segment", ex.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_UnknownFormatVersion_Throws()
    {
        using var temp = new TempDirectory();
        WriteInserts(Config(temp.Path), 3);
        string path = Directory.GetFiles(temp.Path, "*.wal").Single();
        var header = new byte[WalFormat.SegmentHeaderSize];
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite))
        {
            stream.ReadExactly(header);
            Assert.True(WalFormat.TryReadSegmentHeader(header, out WalSegmentHeader parsed, out _));
            WalFormat.WriteSegmentHeader(header, parsed with { FormatVersion = 9 });
            stream.Position = 0;
            stream.Write(header);
        }

        var ex = Assert.Throws<WalCorruptionException>(() => WalManager.Open(Config(temp.Path)));
        Assert.Contains("unsupported WAL format version 9", ex.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_LeftoverTemporarySegment_IsRemoved()
    {
        using var temp = new TempDirectory();
        WriteInserts(Config(temp.Path), 3);
        string leftover = Path.Combine(temp.Path, WalSegmentName.Format(2, 4) + WalSegmentName.TempSuffix);
        File.WriteAllBytes(leftover, new byte[100]);

        using var wal = WalManager.Open(Config(temp.Path));
        Assert.False(File.Exists(leftover));
        Assert.Equal(3, wal.LastLsn);
    }

    [Theory]
    [InlineData("SyncIntervalMs")]
    [InlineData("SegmentSizeBytes")]
    [InlineData("MaxWalSize")]
    [InlineData("CheckpointInterval")]
    [InlineData("CompressionThresholdAgeHours")]
    [InlineData("WalDir")]
    public void Config_InvalidValue_ThrowsNamingTheProperty(string property)
    {
        ArgumentException ex = Assert.ThrowsAny<ArgumentException>(() => property switch
        {
            "SyncIntervalMs" => new WalConfig { SyncIntervalMs = -1 },
            "SegmentSizeBytes" => new WalConfig { SegmentSizeBytes = 1000 },
            "MaxWalSize" => new WalConfig { MaxWalSize = 10 },
            "CheckpointInterval" => new WalConfig { CheckpointInterval = 0 },
            "CompressionThresholdAgeHours" => new WalConfig { CompressionThresholdAgeHours = -3 },
            _ => new WalConfig { WalDir = " " },
        });
        Assert.Equal(property, ex.ParamName);
    }

    [Fact]
    public void Config_MaxWalSizeBelowSegmentSize_FailsValidationNamingBoth()
    {
        var config = new WalConfig { SegmentSizeBytes = 64 << 20, MaxWalSize = 1 << 20 };
        var ex = Assert.Throws<ArgumentException>(config.Validate);
        Assert.Contains("MaxWalSize", ex.Message, StringComparison.Ordinal);
        Assert.Contains("SegmentSizeBytes", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Config_Profiles_MatchTheGuidesQuickReferenceTable()
    {
        Assert.Equal((0, 1_000), (WalConfig.MaximumDurability.SyncIntervalMs, WalConfig.MaximumDurability.CheckpointInterval));
        Assert.Equal((100, 10_000), (WalConfig.Balanced.SyncIntervalMs, WalConfig.Balanced.CheckpointInterval));
        Assert.Equal((1_000, 100_000), (WalConfig.HighThroughput.SyncIntervalMs, WalConfig.HighThroughput.CheckpointInterval));
        Assert.Equal((10_000, 100_000), (WalConfig.Development.SyncIntervalMs, WalConfig.Development.CheckpointInterval));
        Assert.Equal((1_000_000_000L, 1_000, 10_000), (WalConfig.Default.MaxWalSize, WalConfig.Default.SyncIntervalMs, WalConfig.Default.CheckpointInterval));
    }

    [Fact]
    public void Sync_FsyncFails_WalEntersFailedStateAndNeverRetries()
    {
        var disk = new SimulatedDisk();
        using var wal = WalManager.Open(disk, Config(disk.Directory));
        wal.Append(InsertFor(1));
        disk.FailSyncFrom = disk.SyncCount + 1;

        var first = Assert.Throws<WalFailedException>(() => wal.Append(InsertFor(2)));
        Assert.Contains("fsync failed", first.Message, StringComparison.Ordinal);
        disk.FailSyncFrom = null; // the disk "recovers": the WAL must not pretend the lost fsync succeeded
        Assert.Throws<WalFailedException>(() => wal.Append(InsertFor(3)));
        Assert.Throws<WalFailedException>(wal.Sync);
        Assert.True(wal.GetMetrics().IsFailed);
        Assert.Equal(WalHealthStatus.Critical, wal.CheckHealth().Status);
        Assert.Equal(1, wal.DurableLsn);
    }

    [Fact]
    public void Append_DiskFull_FailsClearlyAndKeepsWhatWasAcknowledged()
    {
        var disk = new SimulatedDisk { Capacity = 3 * (64 << 10) };
        long acknowledged = 0;
        using (var wal = WalManager.Open(disk, Config(disk.Directory)))
        {
            IOException ex = Assert.ThrowsAny<IOException>(() =>
            {
                for (int n = 1; n < 100_000; n++)
                {
                    acknowledged = wal.Append(InsertFor(n));
                }
            });
            Assert.Contains("No space left", ex.Message, StringComparison.Ordinal);
            Assert.Throws<WalFailedException>(() => wal.Append(InsertFor(0)));
        }

        SimulatedDisk after = disk.Crash(new Random(3), CrashMode.DropUnsynced);
        after.Capacity = null;
        using var reopened = WalManager.Open(after, Config(after.Directory));
        Assert.True(acknowledged > 100);
        Assert.True(reopened.LastLsn >= acknowledged);
        Assert.Equal(reopened.LastLsn, reopened.ReadRecords().Count());
    }

    [Fact]
    public void IntervalMode_AppendIsVisibleBeforeTheFsyncAndTheFlusherMakesItDurable()
    {
        using var temp = new TempDirectory();
        using var wal = WalManager.Open(Config(temp.Path) with { SyncIntervalMs = 20 });
        long lsn = wal.Append(InsertFor(1));

        // Acknowledged means handed to the operating system: another reader sees it.
        Assert.Single(new WalReader(temp.Path).ReadRecords());
        Assert.True(SpinWait.SpinUntil(() => wal.DurableLsn >= lsn, TimeSpan.FromSeconds(30)), "the interval flusher never synced");
        Assert.True(wal.GetMetrics().SyncCount >= 1);
    }

    [Fact]
    public async Task AsyncApi_AppendCommitFlush_RoundTrip()
    {
        using var temp = new TempDirectory();
        await using (var wal = WalManager.Open(Config(temp.Path) with { SyncIntervalMs = 1000 }))
        {
            Assert.Equal(1, await wal.AppendAsync(InsertFor(1)));
            using WalTransaction tx = wal.BeginTransaction();
            tx.Add(InsertFor(2));
            Assert.Equal(4, await tx.CommitAsync());
            await wal.FlushAsync();
            Assert.Equal(4, wal.DurableLsn);
        }

        await using var reopened = WalManager.Open(Config(temp.Path));
        Assert.Equal(4, reopened.LastLsn);
    }

    [Fact]
    public void Metrics_ReportTheGuidesFieldsAndHealthAppliesItsThresholds()
    {
        using var temp = new TempDirectory();
        var clock = new ManualClock(DateTimeOffset.UnixEpoch.AddYears(56)); // the recent window holds every sample, however slow the machine
        using var wal = WalManager.Open(Config(temp.Path), timeProvider: clock);
        for (int n = 1; n <= 50; n++)
        {
            wal.Append(InsertFor(n));
        }

        WalMetrics m = wal.GetMetrics();
        Assert.Equal(50, m.TotalEntries);
        Assert.Equal(50, m.EntriesAppended);
        Assert.Equal(50, m.LastLsn);
        Assert.Equal(50, m.DurableLsn);
        Assert.True(m.CurrentSizeBytes > 50 * WalFormat.RecordHeaderSize);
        Assert.True(m.SyncCount >= 50);
        Assert.True(m.AvgSyncLatencyMs > 0 && m.P99SyncLatencyMs >= m.AvgSyncLatencyMs / 10);
        Assert.True(m.P99WriteLatencyMs >= m.P50WriteLatencyMs && m.P50WriteLatencyMs > 0);
        Assert.Equal(50, m.WriteSamples);
        Assert.Equal(m.SyncCount, m.SyncSamples);
        Assert.Equal(16 << 20, m.MaxSizeBytes);
        Assert.True(m.LastCheckpointAge < TimeSpan.FromMinutes(5));

        WalHealthReport health = WalHealthReport.Evaluate(m);
        Assert.Equal(m, health.Metrics);
        // The thresholds, on fixed latencies (the measured ones depend on the machine's load).
        Assert.Equal(WalHealthStatus.Healthy, WalHealthReport.Evaluate(m with { AvgSyncLatencyMs = 1, AvgWriteLatencyMs = 1 }).Status);
        Assert.Equal(WalHealthStatus.Warning, WalHealthReport.Evaluate(m with { CurrentSizeBytes = (long)(0.85 * m.MaxSizeBytes), AvgSyncLatencyMs = 1, AvgWriteLatencyMs = 1 }).Status);
        Assert.Equal(WalHealthStatus.Critical, WalHealthReport.Evaluate(m with { CurrentSizeBytes = (long)(0.95 * m.MaxSizeBytes) }).Status);
        Assert.Equal(WalHealthStatus.Warning, WalHealthReport.Evaluate(m with { AvgSyncLatencyMs = 60, AvgWriteLatencyMs = 1 }).Status);
        Assert.Equal(WalHealthStatus.Critical, WalHealthReport.Evaluate(m with { AvgSyncLatencyMs = 150 }).Status);
        Assert.Equal(WalHealthStatus.Warning, WalHealthReport.Evaluate(m with { AvgSyncLatencyMs = 1, AvgWriteLatencyMs = 11 }).Status);
        Assert.Equal(WalHealthStatus.Healthy, WalHealthReport.Evaluate(m with { LastCheckpointAge = TimeSpan.FromHours(2), OldestUncoveredRecordAge = null, AvgSyncLatencyMs = 1, AvgWriteLatencyMs = 1 }).Status);
        Assert.Equal(WalHealthStatus.Critical, WalHealthReport.Evaluate(m with { LastCheckpointAge = TimeSpan.FromHours(2), OldestUncoveredRecordAge = TimeSpan.FromHours(2) }).Status);
    }

    [Fact]
    public void Checkpoint_Append_ResetsTheCheckpointAge()
    {
        using var temp = new TempDirectory();
        var clock = new ManualClock(DateTimeOffset.UnixEpoch.AddYears(56));
        using var wal = WalManager.Open(Config(temp.Path), timeProvider: clock);
        wal.Append(InsertFor(1));
        clock.Advance(TimeSpan.FromHours(2));
        Assert.Equal(WalHealthStatus.Critical, wal.CheckHealth().Status);
        wal.Append(new WalEntry.Checkpoint(1, 0));
        Assert.Equal(TimeSpan.Zero, wal.GetMetrics().LastCheckpointAge);
    }

    internal static int LastRecordOffset(byte[] segment)
    {
        int offset = WalFormat.SegmentHeaderSize, last = -1;
        while (offset + WalFormat.RecordHeaderSize <= segment.Length && !WalFormat.IsZero(segment.AsSpan(offset, WalFormat.RecordHeaderSize)))
        {
            last = offset;
            offset += WalFormat.RecordSize(WalFormat.ReadRecordHeader(segment.AsSpan(offset)).PayloadLength);
        }

        return last;
    }
}

/// <summary>A clock the test moves by hand (timers still run on the system clock).</summary>
internal sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset _now = start;
    private long _ticks;

    public override DateTimeOffset GetUtcNow() => _now;

    public override long GetTimestamp() => _ticks;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public void Advance(TimeSpan by)
    {
        _now += by;
        _ticks += by.Ticks;
    }
}
