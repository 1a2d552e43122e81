using OxiVec.Wal;
using static OxiVec.Tests.Wal.WalTestHelpers;

namespace OxiVec.Tests.Wal;

/// <summary>A crash mid-write leaves a torn last record: opening cuts it off, keeps everything before, and goes on.</summary>
public sealed class WalTornTailTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Open_LastRecordCutAtEveryOffset_KeepsEveryCompleteRecordAndAppendsAgain(bool preallocate)
    {
        using var temp = new TempDirectory();
        string original = temp.Sub("original");
        List<WalRecord> records = WriteInserts(Config(original, preallocate), 40);
        SetKnownDurableThrough(original, records[^2]); // the crash came before the last write was recorded durable
        WalRecord last = records[^1];
        // Without preallocation a cut anywhere, padding included, shortens the file under the record; with it, the
        // unwritten part reads as zeros, which only tears the record when it falls before the padding.
        long recordEnd = last.Offset + (preallocate ? WalFormat.RecordHeaderSize + last.Payload.Length : WalFormat.RecordSize(last.Payload.Length));

        for (long cut = last.Offset; cut < recordEnd; cut++)
        {
            string dir = temp.Sub($"cut{cut}");
            CopyDirectory(original, dir);
            string segment = Path.Combine(dir, last.SegmentFile);
            CutAt(segment, cut, preallocate);

            using (var wal = WalManager.Open(Config(dir, preallocate)))
            {
                Assert.Equal(39, wal.OpenReport.LastLsn);
                Assert.Equal(cut > last.Offset, wal.OpenReport.TornTailBytes > 0);
                Assert.Equal(40, wal.Append(InsertFor(1000)));
            }

            using (var wal = WalManager.Open(Config(dir, preallocate)))
            {
                List<WalEntry> entries = [.. wal.ReadAllEntries()];
                Assert.Equal(40, entries.Count);
                for (int n = 1; n <= 39; n++)
                {
                    AssertInsert(entries[n - 1], n);
                }

                AssertInsert(entries[39], 1000);
                Assert.Equal(0, wal.OpenReport.TornTailBytes);
            }

            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Open_TornTailOfGarbage_IsCutAndReported()
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

        WalVerifyReport before = new WalReader(temp.Path).Verify();
        Assert.True(before.IsValid);
        WalIssue torn = Assert.Single(before.Issues);
        Assert.Equal(WalIssueKind.TornTail, torn.Kind);
        Assert.Equal(last.Offset, torn.Offset);

        using (var wal = WalManager.Open(Config(temp.Path)))
        {
            Assert.Equal(9, wal.OpenReport.LastLsn);
            Assert.Equal(last.SegmentFile, wal.OpenReport.TornTailFile);
            Assert.Equal(last.Offset, wal.OpenReport.TornTailOffset);
            Assert.True(wal.OpenReport.TornTailBytes >= 300);
            wal.Append(InsertFor(10));
        }

        WalVerifyReport after = new WalReader(temp.Path).Verify();
        Assert.Empty(after.Issues);
        Assert.Equal(10, after.ValidRecords);
    }

    [Fact]
    public void BitFlippedInAnyRecordButTheLast_IsDetectedWithFileAndOffset()
    {
        using var temp = new TempDirectory();
        string original = temp.Sub("original");
        List<WalRecord> records = WriteInserts(Config(original), 2500);
        Assert.True(records.Select(r => r.SegmentFile).Distinct().Count() >= 3, "the test needs several segments");
        var random = new Random(12345);

        for (int trial = 0; trial < 60; trial++)
        {
            WalRecord victim = records[random.Next(records.Count - 1)];
            int size = WalFormat.RecordSize(victim.Payload.Length);
            long offset = victim.Offset + random.Next(size);
            string dir = temp.Sub($"flip{trial}");
            CopyDirectory(original, dir);
            string path = Path.Combine(dir, victim.SegmentFile);
            FlipBit(path, offset, random.Next(8));

            // Opening scans the newest segment; reads, verification and recovery check every segment.
            if (victim.SegmentFile == records[^1].SegmentFile)
            {
                var openError = Assert.Throws<WalCorruptionException>(() => WalManager.Open(Config(dir)).Dispose());
                Assert.Equal(Path.GetFullPath(path), openError.FilePath);
                Assert.Equal(victim.Offset, openError.Offset);
            }

            var ex = Assert.Throws<WalCorruptionException>(() => new WalReader(dir).ReadRecords().Count());
            Assert.Equal(Path.GetFullPath(path), ex.FilePath);
            Assert.Equal(victim.Offset, ex.Offset);
            Assert.Contains(victim.SegmentFile, ex.Message, StringComparison.Ordinal);

            WalVerifyReport report = new WalReader(dir).Verify();
            Assert.False(report.IsValid);
            WalIssue issue = Assert.Single(report.Issues, i => i.Kind == WalIssueKind.Corruption);
            Assert.Equal(victim.SegmentFile, issue.SegmentFile);
            Assert.Equal(victim.Offset, issue.Offset);
            Assert.Equal(victim.Lsn, issue.Lsn);
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void ReadRecords_CorruptionInASealedSegment_Throws()
    {
        using var temp = new TempDirectory();
        List<WalRecord> records = WriteInserts(Config(temp.Path), 2500);
        WalRecord victim = records.First(r => r.SegmentFile != records[^1].SegmentFile && r.Lsn > 10);
        FlipBit(Path.Combine(temp.Path, victim.SegmentFile), victim.Offset + WalFormat.RecordHeaderSize + 3, 0);

        var reader = new WalReader(temp.Path);
        var ex = Assert.Throws<WalCorruptionException>(() => reader.ReadRecords().Count());
        Assert.Equal(victim.Offset, ex.Offset);
    }

    [Fact]
    public void Open_SegmentHeaderDamaged_Throws()
    {
        using var temp = new TempDirectory();
        List<WalRecord> records = WriteInserts(Config(temp.Path), 2500);
        string first = Path.Combine(temp.Path, records[0].SegmentFile);
        FlipBit(first, 20, 1);

        var ex = Assert.Throws<WalCorruptionException>(() => WalManager.Open(Config(temp.Path)).Dispose());
        Assert.Equal(0, ex.Offset);
        Assert.Contains("checksum", ex.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_MissingMiddleSegment_Throws()
    {
        using var temp = new TempDirectory();
        List<WalRecord> records = WriteInserts(Config(temp.Path), 2500);
        string[] segments = [.. records.Select(r => r.SegmentFile).Distinct()];
        Assert.True(segments.Length >= 3);
        File.Delete(Path.Combine(temp.Path, segments[1]));

        var ex = Assert.Throws<WalCorruptionException>(() => WalManager.Open(Config(temp.Path)).Dispose());
        Assert.Contains("missing", ex.Reason, StringComparison.Ordinal);
        Assert.False(new WalReader(temp.Path).Verify().IsValid);
    }

    private static void CutAt(string segment, long cut, bool preallocate)
    {
        using var stream = new FileStream(segment, FileMode.Open, FileAccess.ReadWrite);
        if (!preallocate)
        {
            stream.SetLength(cut);
            return;
        }

        // In a preallocated file the unwritten part of a torn write reads back as zeros.
        long end = WalFormat.AlignUp(cut + 1) + 4096;
        stream.Position = cut;
        stream.Write(new byte[end - cut]);
    }
}
