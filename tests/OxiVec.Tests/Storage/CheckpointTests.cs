using OxiVec.Storage;
using OxiVec.Wal;

namespace OxiVec.Tests.Storage;

public sealed class CheckpointTests
{
    private static VectorDatabaseOptions Options(RetentionPolicy retention, int checkpointInterval = 1_000_000) => new()
    {
        Wal = WalConfig.MaximumDurability with
        {
            SegmentSizeBytes = 64 << 10,
            MaxWalSize = 64 << 20,
            RetentionPolicy = retention,
            CheckpointInterval = checkpointInterval,
        },
    };

    private static void Load(VectorDatabase db, int from, int to)
    {
        for (int i = from; i < to; i++)
        {
            db.Upsert("docs", $"v{i}", new float[] { i, 1, 2, 3, 4, 5, 6, 7 }, new Dictionary<string, MetadataValue> { ["i"] = (long)i });
        }
    }

    private static void AssertHolds(VectorDatabase db, int count)
    {
        Assert.Equal(count, db.Count("docs"));
        foreach (int i in new[] { 0, count / 2, count - 1 })
        {
            VectorRecord r = db.Get("docs", $"v{i}")!;
            Assert.Equal(i, r.Vector.Span[0]);
            Assert.Equal(i, r.Metadata["i"].AsLong);
        }
    }

    [Theory]
    [InlineData(IndexKind.Hnsw)] // the graph is snapshotted
    [InlineData(IndexKind.Flat)] // no snapshot: the index is rebuilt from the records, free slots and all
    public void Reopen_AfterCheckpoint_LoadsItAndReplaysOnlyTheWalAfterIt(IndexKind kind)
    {
        using var temp = new TempDirectory();
        CheckpointInfo info;
        using (var db = VectorDatabase.Open(temp.Path, Options(RetentionPolicy.KeepLast(2))))
        {
            db.CreateCollection("docs", new CollectionOptions(8) { Index = kind });
            Load(db, 0, 300);
            db.Delete("docs", "v5");
            info = db.Checkpoint();
            Assert.Equal(1, info.Sequence);
            Assert.True(info.Bytes > 300 * 32);
            Load(db, 300, 400);
            db.Upsert("docs", "v5", new float[] { 5, 1, 2, 3, 4, 5, 6, 7 }, new Dictionary<string, MetadataValue> { ["i"] = 5L });
        }

        using (var db = VectorDatabase.Open(temp.Path, Options(RetentionPolicy.KeepLast(2))))
        {
            Assert.Equal(info.CoveredLsn, db.Recovery.CheckpointLsn);
            Assert.Equal(101, db.Recovery.AppliedEntries); // 100 upserts + v5, not the 300 before the checkpoint
            AssertHolds(db, 400);
            Assert.Equal(5, db.Get("docs", "v5")!.Vector.Span[0]);
            Assert.Equal("v7", db.Search("docs", new float[] { 7, 1, 2, 3, 4, 5, 6, 7 }, 1, new VectorSearchOptions { Exact = true })[0].Id);
            Assert.Equal("v5", db.Search("docs", new float[] { 5, 1, 2, 3, 4, 5, 6, 7 }, 1)[0].Id);
        }
    }

    [Fact]
    public void Retention_KeepLastOne_DeletesOlderCheckpointsAndTheWalTheyNeeded()
    {
        using var temp = new TempDirectory();
        using (var db = VectorDatabase.Open(temp.Path, Options(RetentionPolicy.KeepLast(1))))
        {
            db.CreateCollection("docs", new CollectionOptions(8));
            Load(db, 0, 1500);
            db.Checkpoint();
            Load(db, 1500, 3000);
            CheckpointInfo second = db.Checkpoint();
            Assert.True(second.SegmentsRemoved > 0);
            Assert.Single(Directory.GetDirectories(Path.Combine(temp.Path, "checkpoints")));
            Assert.True(db.GetWalMetrics().TotalEntries < 3000);
        }

        string walDir = Path.Combine(temp.Path, "wal");
        Assert.True(new WalReader(walDir).Verify().IsValid);
        Assert.True(new WalReader(walDir).ReadRecords().First().Lsn > 1);

        using var reopened = VectorDatabase.Open(temp.Path, Options(RetentionPolicy.KeepLast(1)));
        AssertHolds(reopened, 3000);
    }

    [Fact]
    public void Retention_KeepAll_DeletesNothing()
    {
        using var temp = new TempDirectory();
        using var db = VectorDatabase.Open(temp.Path, Options(RetentionPolicy.KeepAll));
        db.CreateCollection("docs", new CollectionOptions(8));
        Load(db, 0, 1500);
        db.Checkpoint();
        Load(db, 1500, 3000);
        Assert.Equal(0, db.Checkpoint().SegmentsRemoved);
        Assert.Equal(2, Directory.GetDirectories(Path.Combine(temp.Path, "checkpoints")).Length);
        Assert.Equal(1, new WalReader(Path.Combine(temp.Path, "wal")).ReadRecords().First().Lsn);
    }

    [Theory]
    [InlineData("c0.records")]
    [InlineData("c0.index")]
    [InlineData("MANIFEST")]
    public void DamagedNewestCheckpoint_FallsBackToTheOlderOne(string damagedFile)
    {
        using var temp = new TempDirectory();
        using (var db = VectorDatabase.Open(temp.Path, Options(RetentionPolicy.KeepLast(2))))
        {
            db.CreateCollection("docs", new CollectionOptions(8));
            Load(db, 0, 1000);
            db.Checkpoint();
            Load(db, 1000, 2000);
            CheckpointInfo newest = db.Checkpoint();
            Load(db, 2000, 2100);

            string records = Path.Combine(newest.Path, damagedFile);
            byte[] bytes = File.ReadAllBytes(records);
            bytes[bytes.Length / 2] ^= 0x10;
            File.WriteAllBytes(records, bytes);
        }

        using var reopened = VectorDatabase.Open(temp.Path, Options(RetentionPolicy.KeepLast(2)));
        Assert.Equal(1, reopened.LastCheckpoint!.Sequence);
        AssertHolds(reopened, 2100);
    }

    [Fact]
    public void CheckpointsGone_ButWalSegmentsRemoved_RefusesToOpenRatherThanLoseData()
    {
        using var temp = new TempDirectory();
        using (var db = VectorDatabase.Open(temp.Path, Options(RetentionPolicy.KeepLast(1))))
        {
            db.CreateCollection("docs", new CollectionOptions(8));
            Load(db, 0, 2000);
            Assert.True(db.Checkpoint().SegmentsRemoved > 0);
        }

        Directory.Delete(Path.Combine(temp.Path, "checkpoints"), recursive: true);
        var ex = Assert.Throws<InvalidDataException>(() => VectorDatabase.Open(temp.Path, Options(RetentionPolicy.KeepLast(1))));
        Assert.Contains("are gone", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void HalfBuiltCheckpoint_IsIgnoredAndRemoved()
    {
        using var temp = new TempDirectory();
        using (var db = VectorDatabase.Open(temp.Path, Options(RetentionPolicy.KeepLast(2))))
        {
            db.CreateCollection("docs", new CollectionOptions(8));
            Load(db, 0, 10);
        }

        string half = Path.Combine(temp.Path, "checkpoints", "0000000000000001-0000000000000005.tmp");
        Directory.CreateDirectory(half);
        File.WriteAllText(Path.Combine(half, "MANIFEST"), "partial");

        using var reopened = VectorDatabase.Open(temp.Path, Options(RetentionPolicy.KeepLast(2)));
        Assert.False(Directory.Exists(half));
        Assert.Null(reopened.LastCheckpoint);
        AssertHolds(reopened, 10);
    }

    [Fact]
    public void AutomaticCheckpoint_RunsEveryCheckpointIntervalOperations()
    {
        using var temp = new TempDirectory();
        using var db = VectorDatabase.Open(temp.Path, Options(RetentionPolicy.KeepLast(3), checkpointInterval: 200));
        db.CreateCollection("docs", new CollectionOptions(8));

        // Checkpoints run in the background, paced (after one that took d the next waits 4d), and a loaded machine
        // can delay both; writes keep coming until two have completed (normally a few hundred writes).
        int written = 0;
        while (db.LastCheckpoint is not { Sequence: >= 2 } && written < 100_000)
        {
            Load(db, written, written + 50);
            written += 50;
        }

        Assert.True(db.LastCheckpoint is { Sequence: >= 2 }, $"no second automatic checkpoint after {written} writes");
        Assert.True(db.LastCheckpoint!.CoveredLsn >= 200);
    }
}

public sealed class CheckpointWalMismatchTests
{
    [Fact]
    public void CheckpointsWithAWalThatIsNotTheirs_AreRefusedRatherThanLosingWrites()
    {
        using var temp = new TempDirectory();
        string data = temp.Sub("data");
        string elsewhere = temp.Sub("wal-elsewhere");
        var options = new VectorDatabaseOptions { WalDirectory = elsewhere, Wal = WalConfig.MaximumDurability with { CheckpointInterval = 1_000_000 } };
        using (var db = VectorDatabase.Open(data, options))
        {
            db.CreateCollection("c", new CollectionOptions(2));
            for (int i = 0; i < 100; i++)
            {
                db.Insert("c", $"v{i}", new float[] { 1, i + 1 });
            }

            db.Checkpoint();
        }

        // Forgot WalDirectory: the default DATA/wal has no WAL.
        var ex = Assert.Throws<InvalidDataException>(() => VectorDatabase.Open(data, options with { WalDirectory = null }));
        Assert.Contains("set WalDirectory", ex.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(data, "wal")));

        // Another, shorter WAL.
        string other = temp.Sub("other-wal");
        using (var wal = WalManager.Open(WalConfig.MaximumDurability with { WalDir = other }))
        {
            wal.LogEntry("x", new byte[] { 1 });
        }

        Assert.Throws<InvalidDataException>(() => VectorDatabase.Open(data, options with { WalDirectory = other }));

        using var right = VectorDatabase.Open(data, options);
        Assert.Equal(100, right.Count("c"));
    }
}

public sealed class CheckpointAgeTests
{
    [Fact]
    public void CheckpointAge_SurvivesAReopenAfterTheSegmentRotated()
    {
        using var temp = new TempDirectory();
        var clock = new OxiVec.Tests.Wal.ManualClock(DateTimeOffset.Parse("2026-05-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var options = new VectorDatabaseOptions
        {
            TimeProvider = clock,
            Wal = WalConfig.MaximumDurability with { SegmentSizeBytes = 64 << 10, RetentionPolicy = RetentionPolicy.KeepAll, CheckpointInterval = 1_000_000 },
        };
        using (var db = VectorDatabase.Open(temp.Path, options))
        {
            db.CreateCollection("docs", new CollectionOptions(8));
            db.Insert("docs", "a", new float[] { 1, 1, 1, 1, 1, 1, 1, 1 });
            db.Checkpoint();
            for (int i = 0; i < 2000; i++)
            {
                db.Insert("docs", $"v{i}", new float[] { i, 1, 1, 1, 1, 1, 1, 1 }); // several segments after the checkpoint
            }
        }

        clock.Advance(TimeSpan.FromHours(2));
        using var reopened = VectorDatabase.Open(temp.Path, options);
        Assert.True(reopened.GetWalMetrics().LastCheckpointAge >= TimeSpan.FromHours(2) - TimeSpan.FromMinutes(1));
        Assert.Equal(WalHealthStatus.Critical, reopened.CheckHealth().Status);
    }
}
