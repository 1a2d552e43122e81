using OxiVec.Recovery;
using OxiVec.Storage;
using OxiVec.Wal;

namespace OxiVec.Tests.Recovery;

public sealed class CrashRecoveryManagerTests
{
    private static VectorDatabaseOptions Options(RetentionPolicy? retention = null) => new()
    {
        Wal = WalConfig.MaximumDurability with
        {
            SegmentSizeBytes = 64 << 10,
            MaxWalSize = 64 << 20,
            RetentionPolicy = retention ?? RetentionPolicy.KeepAll,
            CheckpointInterval = 1_000_000,
        },
    };

    private static float[] V(int i) => [i, 1, 2, 3];

    [Fact]
    public void Recover_OpensTheDatabaseAndReportsStats()
    {
        using var temp = new TempDirectory();
        using (var db = VectorDatabase.Open(temp.Path, Options()))
        {
            db.CreateCollection("docs", new CollectionOptions(4));
            for (int i = 0; i < 50; i++)
            {
                db.Insert("docs", $"v{i}", V(i));
            }
        }

        var manager = new CrashRecoveryManager(new RecoveryConfig { DataDir = temp.Path, MaxRecoveryTimeMs = 60_000 }, Options());
        Assert.Throws<InvalidOperationException>(manager.GetRecoveryStats);
        using VectorDatabase recovered = manager.Recover();
        RecoveryStats stats = manager.GetRecoveryStats();
        Assert.Equal(51, stats.TotalEntries);
        Assert.Equal(51, stats.AppliedEntries);
        Assert.Equal(0, stats.CorruptedEntries);
        Assert.Equal(50, recovered.Count("docs"));
        Assert.Equal(51, manager.ReadAllEntries().Count());
    }

    [Fact]
    public void PointInTime_ToAnLsn_RebuildsExactlyThatStateInANewDirectory()
    {
        using var temp = new TempDirectory();
        string data = temp.Sub("data");
        long afterFirstBatch, afterTransaction;
        using (var db = VectorDatabase.Open(data, Options()))
        {
            db.CreateCollection("docs", new CollectionOptions(4) { Index = IndexKind.Flat });
            for (int i = 0; i < 30; i++)
            {
                db.Insert("docs", $"v{i}", V(i));
            }

            db.Checkpoint();
            for (int i = 30; i < 60; i++)
            {
                db.Insert("docs", $"v{i}", V(i));
            }

            afterFirstBatch = db.GetWalMetrics().LastLsn;
            using (VectorTransaction tx = db.BeginTransaction())
            {
                tx.Delete("docs", "v0");
                tx.Insert("docs", "tx", V(99));
                afterTransaction = tx.Commit();
            }

            db.Delete("docs", "v1");
            db.Checkpoint();
            db.Insert("docs", "late", V(100));
        }

        var manager = new CrashRecoveryManager(new RecoveryConfig { DataDir = data });
        using (VectorDatabase asOf = manager.RecoverToPointInTime(RecoveryTarget.ToLsn(afterFirstBatch), temp.Sub("pitr1")))
        {
            Assert.Equal(60, asOf.Count("docs"));
            Assert.NotNull(asOf.Get("docs", "v0"));
            Assert.Null(asOf.Get("docs", "tx"));
        }

        // A target inside the transaction (before its commit) excludes all of it.
        using (VectorDatabase inside = manager.RecoverToPointInTime(RecoveryTarget.ToLsn(afterTransaction - 1), temp.Sub("pitr2")))
        {
            Assert.NotNull(inside.Get("docs", "v0"));
            Assert.Null(inside.Get("docs", "tx"));
        }

        using (VectorDatabase atCommit = manager.RecoverToPointInTime(RecoveryTarget.ToLsn(afterTransaction), temp.Sub("pitr3")))
        {
            Assert.Null(atCommit.Get("docs", "v0"));
            Assert.NotNull(atCommit.Get("docs", "tx"));
            Assert.NotNull(atCommit.Get("docs", "v1"));
        }

        // The source is untouched and still opens with everything.
        using var source = VectorDatabase.Open(data, Options());
        Assert.NotNull(source.Get("docs", "late"));
        Assert.Null(source.Get("docs", "v1"));

        // The rebuilt database reopens on its own.
        using var reopened = VectorDatabase.Open(temp.Sub("pitr3"), Options());
        Assert.Equal(60, reopened.Count("docs"));
    }

    [Fact]
    public void PointInTime_ToATime_IncludesRecordsUpToThatTime()
    {
        using var temp = new TempDirectory();
        string data = temp.Sub("data");
        var clock = new Tests.Wal.ManualClock(DateTimeOffset.Parse("2026-03-01T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        VectorDatabaseOptions options = Options() with { TimeProvider = clock };
        using (var db = VectorDatabase.Open(data, options))
        {
            db.CreateCollection("docs", new CollectionOptions(4));
            db.Insert("docs", "morning", V(1));
            clock.Advance(TimeSpan.FromHours(2));
            db.Insert("docs", "noon", V(2));
            clock.Advance(TimeSpan.FromHours(2));
            db.Insert("docs", "afternoon", V(3));
        }

        var manager = new CrashRecoveryManager(new RecoveryConfig { DataDir = data });
        using VectorDatabase asOf = manager.RecoverToPointInTime(
            RecoveryTarget.ToTime(DateTimeOffset.Parse("2026-03-01T12:30:00Z", System.Globalization.CultureInfo.InvariantCulture)), temp.Sub("pitr"));
        Assert.Equal(["morning", "noon"], asOf.Export("docs").Select(r => r.Id).Order());
    }

    [Fact]
    public void PointInTime_OlderThanRetained_SaysTheOldestReachablePoint()
    {
        using var temp = new TempDirectory();
        string data = temp.Sub("data");
        long early;
        using (var db = VectorDatabase.Open(data, Options(RetentionPolicy.KeepLast(1))))
        {
            db.CreateCollection("docs", new CollectionOptions(4));
            early = db.Insert("docs", "first", V(1));
            for (int i = 0; i < 2000; i++)
            {
                db.Insert("docs", $"v{i}", V(i));
            }

            Assert.True(db.Checkpoint().SegmentsRemoved > 0);
        }

        var manager = new CrashRecoveryManager(new RecoveryConfig { DataDir = data });
        var ex = Assert.Throws<ArgumentException>(() => manager.RecoverToPointInTime(RecoveryTarget.ToLsn(early), temp.Sub("pitr")));
        Assert.Contains("oldest reachable point is LSN", ex.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => manager.RecoverToPointInTime(RecoveryTarget.ToLsn(1_000_000), temp.Sub("pitr2")));
        Directory.CreateDirectory(temp.Sub("busy"));
        File.WriteAllText(Path.Combine(temp.Sub("busy"), "x"), "not empty");
        Assert.Throws<IOException>(() => manager.RecoverToPointInTime(RecoveryTarget.ToLsn(early), temp.Sub("busy")));
    }

    [Fact]
    public void ApplyEntry_ReplaysAnotherDatabasesLogIntoThisOne()
    {
        using var temp = new TempDirectory();
        using (var db = VectorDatabase.Open(temp.Sub("a"), Options()))
        {
            db.CreateCollection("docs", new CollectionOptions(4));
            db.Insert("docs", "x", V(1));
            db.Upsert("docs", "x", V(2));
            db.Insert("docs", "y", V(3));
            db.Delete("docs", "y");
        }

        using var copy = VectorDatabase.Open(temp.Sub("b"), Options());
        foreach (WalEntry entry in new WalReader(Path.Combine(temp.Sub("a"), "wal")).ReadAllEntries())
        {
            copy.ApplyEntry(entry);
        }

        Assert.Equal(V(2), copy.Get("docs", "x")!.Vector.ToArray());
        Assert.Null(copy.Get("docs", "y"));
    }
}
