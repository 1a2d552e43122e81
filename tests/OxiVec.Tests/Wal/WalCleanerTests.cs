using OxiVec.Storage;
using OxiVec.Wal;

namespace OxiVec.Tests.Wal;

public sealed class WalCleanerTests
{
    [Fact]
    public void CleanupOldFiles_DeletesOnlyOldSegmentsBeforeTheRetainedLsn()
    {
        using var temp = new TempDirectory();
        List<WalRecord> records = WalTestHelpers.WriteInserts(WalTestHelpers.Config(temp.Path), 3000);
        string[] segments = [.. records.Select(r => r.SegmentFile).Distinct()];
        Assert.True(segments.Length >= 4);
        long retainFrom = records.First(r => r.SegmentFile == segments[2]).Lsn + 5; // inside the third segment
        var clock = new ManualClock(DateTimeOffset.UtcNow.AddDays(10));

        Assert.Equal(0, new WalCleaner(temp.Path).CleanupOldFiles(7, retainFrom)); // nothing is a week old yet
        Assert.Equal(2, new WalCleaner(temp.Path, timeProvider: clock).CleanupOldFiles(7, retainFrom));

        Assert.False(File.Exists(Path.Combine(temp.Path, segments[0])));
        Assert.False(File.Exists(Path.Combine(temp.Path, segments[1])));
        Assert.True(File.Exists(Path.Combine(temp.Path, segments[2])));
        WalVerifyReport report = new WalReader(temp.Path).Verify();
        Assert.True(report.IsValid);
        Assert.Equal(records.First(r => r.SegmentFile == segments[2]).Lsn, new WalReader(temp.Path).ReadRecords().First().Lsn);
        using var wal = WalManager.Open(WalTestHelpers.Config(temp.Path));
        Assert.Equal(3000, wal.LastLsn);
    }

    [Theory]
    [InlineData(-30, 2)]
    [InlineData(0, 0)]
    public void CleanupOldFiles_JudgesAgeByTheWalsRecordTimes_NotByFileTimes(int writtenDaysFromNow, int expectedDeleted)
    {
        using var temp = new TempDirectory();
        DateTimeOffset now = DateTimeOffset.UtcNow; // file times are today too: the old comparison could not tell
        var writer = new ManualClock(now.AddDays(writtenDaysFromNow)); // the files themselves are written today, by the OS clock
        using (var wal = WalManager.Open(WalTestHelpers.Config(temp.Path), timeProvider: writer))
        {
            for (int n = 1; n <= 3000; n++)
            {
                wal.Append(WalTestHelpers.InsertFor(n));
            }
        }

        List<WalRecord> records = [.. new WalReader(temp.Path).ReadRecords()];
        string[] segments = [.. records.Select(r => r.SegmentFile).Distinct()];
        Assert.True(segments.Length >= 4);
        long retainFrom = records.First(r => r.SegmentFile == segments[2]).Lsn; // the first two segments may go

        Assert.Equal(expectedDeleted, new WalCleaner(temp.Path, timeProvider: new ManualClock(now)).CleanupOldFiles(7, retainFrom));
        Assert.Equal(expectedDeleted == 0, File.Exists(Path.Combine(temp.Path, segments[0])));
    }

    [Fact]
    public void CleanupOldFiles_AfterAnInterruptedCompression_RemovesTheCompressedTwinAndTheWalStillOpens()
    {
        using var temp = new TempDirectory();
        List<WalRecord> records = WalTestHelpers.WriteInserts(WalTestHelpers.Config(temp.Path), 3000);
        string[] segments = [.. records.Select(r => r.SegmentFile).Distinct()];
        var storage = new FileSystemWalStorage(temp.Path);

        // Compression of the first segment was interrupted after its compressed copy was made durable.
        WalSegmentCompression.Compress(storage, segments[0], f => f.Sync(), storage.SyncDirectory);
        Assert.Single(storage.ListFiles(WalSegmentCompression.Suffix));
        long retainFrom = records.First(r => r.SegmentFile == segments[2]).Lsn; // the first two segments may go

        Assert.Equal(2, new WalCleaner(temp.Path).CleanupOldFiles(0, retainFrom));

        Assert.Empty(storage.ListFiles(WalSegmentCompression.Suffix));
        using var wal = WalManager.Open(WalTestHelpers.Config(temp.Path));
        Assert.Equal(retainFrom, wal.FirstLsn);
        Assert.Equal(Enumerable.Range((int)retainFrom, 3000 - (int)retainFrom + 1).Select(n => (long)n), wal.ReadRecords().Select(r => r.Lsn));
    }

    [Fact]
    public void CleanupOldFiles_WhileTheWalIsOpen_IsRefused()
    {
        using var temp = new TempDirectory();
        using var wal = WalManager.Open(WalTestHelpers.Config(temp.Path));
        Assert.Throws<WalLockedException>(() => new WalCleaner(temp.Path).CleanupOldFiles(0, long.MaxValue));
    }

    [Fact]
    public void DatabaseCleanup_WithoutCheckpoint_DeletesNothing_WithOne_KeepsWhatItNeeds()
    {
        using var temp = new TempDirectory();
        var options = new VectorDatabaseOptions
        {
            Wal = WalConfig.MaximumDurability with { SegmentSizeBytes = 64 << 10, MaxWalSize = 64 << 20, RetentionPolicy = RetentionPolicy.KeepAll, CheckpointInterval = 1_000_000 },
        };
        using (var db = VectorDatabase.Open(temp.Path, options))
        {
            db.CreateCollection("docs", new OxiVec.Storage.CollectionOptions(8));
            for (int i = 0; i < 2000; i++)
            {
                db.Insert("docs", $"v{i}", new float[] { i, 1, 1, 1, 1, 1, 1, 1 });
            }
        }

        Assert.Equal(0, DatabaseMaintenance.CleanupOldWalFiles(temp.Path, 0));
        using (var db = VectorDatabase.Open(temp.Path, options))
        {
            db.Checkpoint();
            db.Insert("docs", "after", new float[] { 1, 1, 1, 1, 1, 1, 1, 1 });
        }

        Assert.True(DatabaseMaintenance.CleanupOldWalFiles(temp.Path, 0) > 0);
        using var reopened = VectorDatabase.Open(temp.Path, options);
        Assert.Equal(2001, reopened.Count("docs"));
    }
}
