using System.Buffers.Binary;
using CsCheck;
using OxiVec.Tests.Fakes;
using OxiVec.Wal;
using static OxiVec.Tests.Wal.WalTestHelpers;

namespace OxiVec.Tests.Wal;

/// <summary>
/// The control file records how far the log is known durable: damage at or before that point is corruption, never
/// a torn tail cut off in silence; only bytes past it (and past what durable distances prove) may be a torn tail.
/// </summary>
public sealed class WalKnownDurableTests
{
    /// <summary>The issue's repro: an interval policy, a clean close, 8 bytes flipped at offset 100,000 of the segment.</summary>
    [Fact]
    public void BitFlipMidSegment_AfterCleanCloseWithIntervalPolicy_IsCorruptionNotATornTail()
    {
        using var temp = new TempDirectory();
        WalConfig config = Config(temp.Path, segmentSize: 64 << 20) with { SyncIntervalMs = 1000, MaxWalSize = 256 << 20 };
        List<WalRecord> records = WriteInserts(config, 3000, dimension: 16);
        Assert.Single(records.Select(r => r.SegmentFile).Distinct());
        WalRecord victim = records.Last(r => r.Offset <= 100_000);
        string path = Path.Combine(temp.Path, victim.SegmentFile);
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite))
        {
            stream.Position = 100_000;
            stream.Write(Enumerable.Repeat((byte)0x5A, 8).ToArray());
        }

        WalVerifyReport report = new WalReader(temp.Path).Verify();
        Assert.False(report.IsValid);
        WalIssue issue = Assert.Single(report.Issues);
        Assert.Equal(WalIssueKind.Corruption, issue.Kind);
        Assert.Equal(victim.SegmentFile, issue.SegmentFile);
        Assert.Equal(victim.Offset, issue.Offset);

        var open = Assert.Throws<WalCorruptionException>(() => WalManager.Open(config).Dispose());
        Assert.Equal(Path.GetFullPath(path), open.FilePath);
        Assert.Equal(victim.Offset, open.Offset);
        var read = Assert.Throws<WalCorruptionException>(() => new WalReader(temp.Path).ReadRecords().Count());
        Assert.Equal(victim.Offset, read.Offset);

        // Recovery that skips corruption counts what it passes over.
        var skipped = new List<WalSkippedRange>();
        int kept = new WalReader(temp.Path).ReadRecords(1, skipped.Add).Count();
        WalSkippedRange range = Assert.Single(skipped);
        Assert.Equal(victim.Lsn, range.FromLsn);
        Assert.Equal(3000, kept + range.Records);
    }

    /// <summary>
    /// Property: 1-3 bits flipped in one record known durable (at or before the control point, in a sealed segment,
    /// or attested by a later record's durable distance) are always detected, under every sync policy, after clean
    /// and unclean closes: verification reports corruption there, and opening refuses when it is the newest segment.
    /// </summary>
    [Fact]
    public void BitsFlippedInAnyKnownDurableRecord_AreAlwaysDetected_UnderEverySyncPolicyAndClose()
    {
        Gen.Select(Gen.Int[0, int.MaxValue], Gen.Int[0, 2].Select(i => new[] { 0, 100, 1000 }[i]), Gen.Bool, Gen.Int[20, 160], Gen.Int[1, 3])
            .Sample((seed, interval, clean, count, flips) =>
            {
                var random = new Random(seed);
                var disk = new SimulatedDisk();
                WalConfig config = Config(disk.Directory, segmentSize: WalConfig.MinSegmentSizeBytes) with { SyncIntervalMs = interval };
                SimulatedDisk after = disk;
                var wal = WalManager.Open(disk, config);
                try
                {
                    for (int n = 1; n <= count; n++)
                    {
                        wal.Append(InsertFor(n, 16));
                        if (random.Next(10) == 0)
                        {
                            wal.Sync();
                        }
                    }

                    if (!clean)
                    {
                        after = disk.Crash(random, (CrashMode)random.Next(3));
                    }
                }
                finally
                {
                    wal.Dispose();
                }

                WalDurablePoint? point = WalControlFile.Read(after)?.Point;
                List<WalRecord> survivors = [.. new WalReader(after, null, point).ReadRecords()];
                string newest = after.ListFiles(".wal")[^1];
                List<WalRecord> durable = [.. survivors.Where(r => IsKnownDurable(after, survivors, r, point, newest))];
                if (durable.Count == 0)
                {
                    return; // nothing known durable (a crash before the first fsync)
                }

                WalRecord victim = durable[random.Next(durable.Count)];
                int size = WalFormat.RecordSize(victim.Payload.Length);
                byte[] bytes = after.ReadAll(victim.SegmentFile);
                foreach (int bit in Enumerable.Range(0, size * 8).OrderBy(_ => random.Next()).Take(flips))
                {
                    bytes[victim.Offset + (bit / 8)] ^= (byte)(1 << (bit % 8));
                }

                after.Poke(victim.SegmentFile, victim.Offset, bytes.AsSpan((int)victim.Offset, size));
                WalVerifyReport report = new WalReader(after, null, WalControlFile.Read(after)?.Point).Verify();
                Assert.Contains(report.Issues, i => i.Kind == WalIssueKind.Corruption && i.SegmentFile == victim.SegmentFile && i.Offset == victim.Offset);
                if (victim.SegmentFile == newest)
                {
                    var ex = Assert.Throws<WalCorruptionException>(() => WalManager.Open(after, config).Dispose());
                    Assert.Equal(victim.Offset, ex.Offset);
                }
            }, iter: 150);
    }

    [Fact]
    public void Open_TornTail_KeepsExactlyTheCutBytesInQuarantine()
    {
        using var temp = new TempDirectory();
        List<WalRecord> records = WriteInserts(Config(temp.Path), 10);
        SetKnownDurableThrough(temp.Path, records[^2]); // the crash came before the last write was recorded durable
        WalRecord last = records[^1];
        string segment = Path.Combine(temp.Path, last.SegmentFile);
        var garbage = new byte[300];
        new Random(7).NextBytes(garbage);
        using (var stream = new FileStream(segment, FileMode.Open, FileAccess.Write))
        {
            stream.Position = last.Offset + 5;
            stream.Write(garbage);
        }

        byte[] before = File.ReadAllBytes(segment);
        using (var wal = WalManager.Open(Config(temp.Path)))
        {
            WalOpenReport report = wal.OpenReport;
            Assert.Equal($"quarantine/{last.SegmentFile}.{last.Offset}.broken", report.TornTailQuarantineFile);
            byte[] kept = File.ReadAllBytes(Path.Combine(temp.Path, report.TornTailQuarantineFile!));
            Assert.Equal(before.AsSpan((int)last.Offset, (int)report.TornTailBytes).ToArray(), kept);
            Assert.Equal(9, wal.ReadRecords().Count()); // the quarantine subdirectory is no part of the log
        }

        Assert.True(new WalReader(temp.Path).Verify().IsValid);
    }

    [Fact]
    public void ScanPastDamage_In64MiBMostlyZeroSegment_WorkIsProportionalToTheRecords()
    {
        using var temp = new TempDirectory();
        WalConfig config = Config(temp.Path, segmentSize: 64 << 20) with { SyncIntervalMs = 1000, MaxWalSize = 256 << 20 };
        List<WalRecord> records = WriteInserts(config, 3000, dimension: 16);
        WalRecord last = records[^1];
        long recordBytes = last.Offset + WalFormat.RecordSize(last.Payload.Length);
        string path = Path.Combine(temp.Path, last.SegmentFile);
        FlipBit(path, 100_000, 3);
        var storage = new FileSystemWalStorage(temp.Path);

        // With the control file, the stop point is before the known-durable point: no evidence scan at all.
        WalSegmentEnd withControl = ScanToEnd(storage, last.SegmentFile, WalControlFile.Read(storage)!.Value.Point.Offset, out long examined, out _);
        Assert.Equal(WalSegmentEndKind.Corrupt, withControl.Kind);
        Assert.Equal(0, examined);

        // Without it (an older WAL), the scan for durability evidence looks at each 8-byte place of the records after
        // the damage, and checksums only candidates whose LSN is possible there: never the 64 MiB of zeros, never
        // megabytes for a garbage length.
        WalSegmentEnd without = ScanToEnd(storage, last.SegmentFile, 0, out examined, out long checkedBytes);
        Assert.NotEqual(WalSegmentEndKind.Clean, without.Kind);
        Assert.InRange(examined, 1, (recordBytes - without.Offset) / WalFormat.Alignment);
        Assert.InRange(checkedBytes, 0, 2 * recordBytes);
    }

    [Fact]
    public void Open_NewestSegmentEmptyAfterACompressedOneEndingInAnOpenTransaction_LogsTheAbort()
    {
        using var temp = new TempDirectory();
        WalConfig config = Config(temp.Path);
        long begin;
        using (var wal = WalManager.Open(config))
        {
            for (int n = 1; n <= 120; n++)
            {
                wal.Append(InsertFor(n, 64));
            }

            using WalTransaction tx = wal.BeginTransaction();
            for (int n = 121; n <= 220; n++)
            {
                tx.Add(InsertFor(n, 64));
            }

            begin = tx.Commit() - 101;
        }

        var storage = new FileSystemWalStorage(temp.Path);
        string[] segments = [.. storage.ListFiles(".wal")];
        Assert.True(segments.Length == 2, "the transaction must span the one segment boundary");
        List<WalRecord> first = [.. new WalReader(temp.Path).ReadRecords().Where(r => r.SegmentFile == segments[0])];
        Assert.True(first[^1].Lsn > begin, "the first segment must end inside the transaction");

        // A power loss right after the rotation: the newest segment's records never reached the disk, and the
        // control file had recorded only the first segment. Then the first segment was compressed.
        using (IWalFile file = storage.Open(segments[1], writable: true))
        {
            file.Write(WalFormat.SegmentHeaderSize, new byte[file.Length - WalFormat.SegmentHeaderSize]);
        }

        SetKnownDurableThrough(temp.Path, first[^1]);
        (string compressed, _) = WalSegmentCompression.Compress(storage, segments[0], f => f.Sync(), storage.SyncDirectory);
        File.Delete(Path.Combine(temp.Path, segments[0]));
        Assert.EndsWith(".walz", compressed, StringComparison.Ordinal);

        using var reopened = WalManager.Open(config);
        Assert.Equal(first[^1].Lsn, reopened.OpenReport.LastLsn);
        Assert.Equal(begin, reopened.OpenReport.AbortedTransactionLsn);
    }

    [Fact]
    public void Reopen_AfterAFailedFsyncInTheSameBoot_DoesNotTrustCachedBytesPastTheDurablePoint()
    {
        var disk = new SimulatedDisk();
        WalConfig config = Config(disk.Directory);
        using (var wal = WalManager.Open(disk, config))
        {
            for (int n = 1; n <= 5; n++)
            {
                wal.Append(InsertFor(n));
            }

            disk.FailSyncFrom = disk.SyncCount + 1;
            Assert.Throws<WalFailedException>(() => wal.Append(InsertFor(6))); // written to the page cache, fsync failed
        }

        disk.FailSyncFrom = null;
        using var reopened = WalManager.Open(disk, config);
        Assert.Equal(5, reopened.OpenReport.LastLsn);
        Assert.True(disk.Evictions > 0, "the cached pages past the durable point must be dropped");
        Assert.Equal(Enumerable.Range(1, 5).Select(n => (long)n), reopened.ReadRecords().Select(r => r.Lsn));
    }

    [Fact]
    public void Open_WalWrittenBeforeTheControlFileExisted_OpensAsBeforeAndCreatesIt()
    {
        using var temp = new TempDirectory();
        List<WalRecord> records = WriteInserts(Config(temp.Path), 10);
        string control = Path.Combine(temp.Path, WalControlFile.FileName);
        File.Delete(control);

        // Nothing is known beyond durable distances: a torn last record is cut, as it always was.
        WalRecord last = records[^1];
        FlipBit(Path.Combine(temp.Path, last.SegmentFile), last.Offset + 40, 1);
        Assert.True(new WalReader(temp.Path).Verify().IsValid);
        using (var wal = WalManager.Open(Config(temp.Path)))
        {
            Assert.Equal(9, wal.OpenReport.LastLsn);
            Assert.True(wal.OpenReport.TornTailBytes > 0);
        }

        Assert.Equal(9, WalControlFile.Read(new FileSystemWalStorage(temp.Path))!.Value.Point.Lsn);
    }

    [Fact]
    public void Verify_ControlFileWithBothSlotsDamaged_ReportsCorruptionNamingIt()
    {
        using var temp = new TempDirectory();
        WriteInserts(Config(temp.Path), 10);
        string control = Path.Combine(temp.Path, WalControlFile.FileName);
        FlipBit(control, 20, 0);
        FlipBit(control, WalControlFile.SlotSize + 20, 0);

        WalIssue issue = Assert.Single(new WalReader(temp.Path).Verify().Issues);
        Assert.Equal(WalIssueKind.Corruption, issue.Kind);
        Assert.Equal(WalControlFile.FileName, issue.SegmentFile);
        var ex = Assert.Throws<WalCorruptionException>(() => WalManager.Open(Config(temp.Path)).Dispose());
        Assert.Equal(Path.GetFullPath(control), ex.FilePath);
    }

    [Fact]
    public void ControlFile_TornWriteOfOneSlot_LeavesThePreviousPoint()
    {
        using var temp = new TempDirectory();
        var storage = new FileSystemWalStorage(temp.Path);
        var first = new WalDurablePoint(1, 128, 2);
        using (WalControlFile file = WalControlFile.OpenAndWrite(storage, new WalControlState(first, false)))
        {
            file.Write(new WalControlState(first with { Offset = 200, Lsn = 3 }, false));
        }

        Assert.Equal(3, WalControlFile.Read(storage)!.Value.Point.Lsn);
        FlipBit(Path.Combine(temp.Path, WalControlFile.FileName), WalControlFile.SlotSize + 40, 2); // the newer slot is torn
        Assert.Equal(first, WalControlFile.Read(storage)!.Value.Point);
    }

    private static bool IsKnownDurable(SimulatedDisk disk, List<WalRecord> records, WalRecord record, WalDurablePoint? point, string newest)
    {
        if (record.SegmentFile != newest || (point is { } p && record.Lsn <= p.Lsn))
        {
            return true; // a sealed segment, or at or before the control point
        }

        byte[] bytes = disk.ReadAll(record.SegmentFile);
        return records.Any(later => later.SegmentFile == record.SegmentFile && later.Lsn > record.Lsn
            && later.Lsn - BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan((int)later.Offset + 28)) >= record.Lsn);
    }

    private static WalSegmentEnd ScanToEnd(FileSystemWalStorage storage, string name, long durableEnd, out long examined, out long checkedBytes)
    {
        using var reader = new WalSegmentReader(storage.Open(name, writable: false), name, -1, durableEnd);
        while (reader.TryReadNext(out _, out _))
        {
        }

        examined = reader.CandidatesExamined;
        checkedBytes = reader.CandidateBytesChecked;
        return reader.End!.Value;
    }
}
