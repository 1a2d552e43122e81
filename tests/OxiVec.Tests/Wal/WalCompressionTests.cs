using OxiVec.Recovery;
using OxiVec.Storage;
using OxiVec.Wal;
using static OxiVec.Tests.Wal.WalTestHelpers;

namespace OxiVec.Tests.Wal;

public sealed class WalCompressionTests
{
    [Fact]
    public void CompressSealedSegments_KeepsEveryRecordReadableAndShrinksTheFiles()
    {
        using var temp = new TempDirectory();
        List<WalRecord> before = WriteInserts(Config(temp.Path), 3000, dimension: 32);
        int segments = before.Select(r => r.SegmentFile).Distinct().Count();
        long sizeBefore = Directory.GetFiles(temp.Path, "*.wal").Sum(f => new FileInfo(f).Length);

        using (var wal = WalManager.Open(Config(temp.Path)))
        {
            Assert.Equal(0, wal.CompressSealedSegments(TimeSpan.FromDays(1)).Segments); // none is a day old
            (int compressed, long saved) = wal.CompressSealedSegments(TimeSpan.Zero);
            Assert.Equal(segments - 1, compressed);
            Assert.True(saved > 0);
            Assert.Equal(segments - 1, Directory.GetFiles(temp.Path, "*.walz").Length);
            AssertSameRecords(before, [.. wal.ReadRecords()]);
            Assert.True(wal.Verify().IsValid);
            wal.Append(InsertFor(5000, 32));
        }

        long sizeAfter = Directory.GetFiles(temp.Path).Where(f => f.EndsWith(".wal", StringComparison.Ordinal) || f.EndsWith(".walz", StringComparison.Ordinal)).Sum(f => new FileInfo(f).Length);
        Assert.True(sizeAfter < sizeBefore, $"{sizeAfter} bytes after compression, {sizeBefore} before");
        using var reopened = WalManager.Open(Config(temp.Path));
        Assert.Equal(3001, reopened.LastLsn);
        AssertSameRecords(before, [.. new WalReader(temp.Path).ReadRecords().Take(3000)]);
    }

    [Fact]
    public void DamagedCompressedSegment_IsReportedAsCorruption()
    {
        using var temp = new TempDirectory();
        WriteInserts(Config(temp.Path), 3000);
        using (var wal = WalManager.Open(Config(temp.Path)))
        {
            wal.CompressSealedSegments(TimeSpan.Zero);
        }

        string victim = Directory.GetFiles(temp.Path, "*.walz").Order().First();
        FlipBit(victim, new FileInfo(victim).Length / 2, 4);

        WalVerifyReport report = new WalReader(temp.Path).Verify();
        Assert.False(report.IsValid);
        Assert.Contains(report.Issues, i => i.SegmentFile == Path.GetFileName(victim));
        Assert.Throws<WalCorruptionException>(() => new WalReader(temp.Path).ReadRecords().Count());
    }

    [Fact]
    public void CrashBetweenCompressionAndDeletingTheOriginal_KeepsTheOriginal()
    {
        using var temp = new TempDirectory();
        List<WalRecord> before = WriteInserts(Config(temp.Path), 3000);
        string first = before[0].SegmentFile;
        File.Copy(Path.Combine(temp.Path, first), Path.Combine(temp.Sub("keep")), overwrite: true);
        using (var wal = WalManager.Open(Config(temp.Path)))
        {
            wal.CompressSealedSegments(TimeSpan.Zero);
        }

        File.Copy(temp.Sub("keep"), Path.Combine(temp.Path, first)); // the original "was not deleted yet"
        File.Delete(temp.Sub("keep"));
        AssertSameRecords(before, [.. new WalReader(temp.Path).ReadRecords()]);
        using var wal2 = WalManager.Open(Config(temp.Path));
        Assert.False(File.Exists(Path.Combine(temp.Path, Path.ChangeExtension(first, ".walz"))));
        Assert.Equal(3000, wal2.ReadRecords().Count());
    }

    [Fact]
    public void Database_WithCompression_RecoversAndPointInTimeRecoversThroughCompressedSegments()
    {
        using var temp = new TempDirectory();
        string data = temp.Sub("data");
        var options = new VectorDatabaseOptions
        {
            Wal = WalConfig.MaximumDurability with
            {
                SegmentSizeBytes = 64 << 10, MaxWalSize = 64 << 20, EnableCompression = true, CompressionThresholdAgeHours = 0,
                RetentionPolicy = RetentionPolicy.KeepAll, CheckpointInterval = 1_000_000,
            },
        };
        long middle;
        using (var db = VectorDatabase.Open(data, options))
        {
            db.CreateCollection("docs", new OxiVec.Storage.CollectionOptions(8));
            for (int i = 0; i < 1500; i++)
            {
                db.Insert("docs", $"v{i}", VectorFor(i));
            }

            middle = db.GetWalMetrics().LastLsn;
            for (int i = 1500; i < 3000; i++)
            {
                db.Insert("docs", $"v{i}", VectorFor(i));
            }

            Assert.True(db.Checkpoint().SegmentsCompressed > 0);
        }

        using (var reopened = VectorDatabase.Open(data, options))
        {
            Assert.Equal(3000, reopened.Count("docs"));
        }

        using VectorDatabase asOf = new CrashRecoveryManager(new RecoveryConfig { DataDir = data }).RecoverToPointInTime(RecoveryTarget.ToLsn(middle), temp.Sub("pitr"));
        Assert.Equal(1500, asOf.Count("docs"));
    }

    private static void AssertSameRecords(List<WalRecord> expected, List<WalRecord> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].Lsn, actual[i].Lsn);
            Assert.Equal(expected[i].Type, actual[i].Type);
            Assert.True(expected[i].Payload.Span.SequenceEqual(actual[i].Payload.Span));
        }
    }
}
