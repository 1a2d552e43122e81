using OxiVec.Storage;
using OxiVec.Tests.Wal;
using OxiVec.Wal;

namespace OxiVec.Tests.Storage;

public sealed class RecoveryOptionsTests
{
    private static VectorDatabaseOptions Options(bool skip = false, int maxMs = 0) => new()
    {
        Wal = WalConfig.MaximumDurability with { SegmentSizeBytes = 64 << 10, MaxWalSize = 64 << 20, RetentionPolicy = RetentionPolicy.KeepAll, CheckpointInterval = 1_000_000 },
        SkipCorruptedEntries = skip,
        MaxRecoveryTimeMs = maxMs,
    };

    private static List<WalRecord> Build(string dir, int count)
    {
        using (var db = VectorDatabase.Open(dir, Options()))
        {
            db.CreateCollection("docs", new CollectionOptions(4) { Index = IndexKind.Flat });
            for (int i = 0; i < count; i++)
            {
                db.Insert("docs", $"v{i}", new float[] { i, 1, 1, 1 });
            }

            using VectorTransaction tx = db.BeginTransaction();
            tx.Insert("docs", "tx-a", new float[] { 1, 2, 3, 4 });
            tx.Insert("docs", "tx-b", new float[] { 1, 2, 3, 5 });
            tx.Commit();
            db.Insert("docs", "last", new float[] { 9, 9, 9, 9 });
        }

        return [.. new WalReader(Path.Combine(dir, "wal")).ReadRecords()];
    }

    [Fact]
    public void CorruptionInTheMiddle_StopsRecoveryNamingFileAndOffset()
    {
        using var temp = new TempDirectory();
        List<WalRecord> records = Build(temp.Path, 1500);
        WalRecord victim = records[700];
        WalTestHelpers.FlipBit(Path.Combine(temp.Path, "wal", victim.SegmentFile), victim.Offset + 40, 3);

        var ex = Assert.Throws<WalCorruptionException>(() => VectorDatabase.Open(temp.Path, Options()));
        Assert.Equal(victim.Offset, ex.Offset);
        Assert.EndsWith(victim.SegmentFile, ex.FilePath, StringComparison.Ordinal);
    }

    [Fact]
    public void SkipCorruptedEntries_LosesOnlyTheDamagedRecordAndReportsIt()
    {
        using var temp = new TempDirectory();
        List<WalRecord> records = Build(temp.Path, 1500);
        WalRecord victim = records[700];
        var id = ((WalEntry.Insert)victim.ToEntry()).Id;
        WalTestHelpers.FlipBit(Path.Combine(temp.Path, "wal", victim.SegmentFile), victim.Offset + 40, 3);

        using (var db = VectorDatabase.Open(temp.Path, Options(skip: true)))
        {
            Assert.Equal(1, db.Recovery.CorruptedEntries);
            WalSkippedRange range = Assert.Single(db.Recovery.SkippedRanges);
            Assert.Equal(victim.Lsn, range.FromLsn);
            Assert.Equal(victim.Offset, range.Offset);
            Assert.Null(db.Get("docs", id));
            Assert.Equal(1500 - 1 + 3, db.Count("docs"));
            db.Insert("docs", "after", new float[] { 1, 1, 1, 1 });
        }

        using var again = VectorDatabase.Open(temp.Path, Options(skip: true));
        Assert.NotNull(again.Get("docs", "after"));
    }

    [Fact]
    public void SkipCorruptedEntries_DamageInTheLastSegment_IsSkippedAndTheSegmentSealed()
    {
        using var temp = new TempDirectory();
        List<WalRecord> records = Build(temp.Path, 1500);
        WalRecord victim = records[^6]; // v1499, just before the transaction
        Assert.Equal("v1499", ((WalEntry.Insert)victim.ToEntry()).Id);
        Assert.Equal(records[^1].SegmentFile, victim.SegmentFile);
        WalTestHelpers.FlipBit(Path.Combine(temp.Path, "wal", victim.SegmentFile), victim.Offset + 2, 0);

        Assert.Throws<WalCorruptionException>(() => VectorDatabase.Open(temp.Path, Options()));
        using var db = VectorDatabase.Open(temp.Path, Options(skip: true));
        Assert.Equal(1, db.Recovery.CorruptedEntries);
        Assert.Null(db.Get("docs", "v1499"));
        Assert.NotNull(db.Get("docs", "last"));
        Assert.NotNull(db.Get("docs", "tx-a"));
        db.Insert("docs", "new", new float[] { 2, 2, 2, 2 });
        Assert.Equal(db.GetWalMetrics().LastLsn, new WalReader(Path.Combine(temp.Path, "wal")).ReadRecords(db.GetWalMetrics().LastLsn).Single().Lsn);
        Assert.NotEqual(victim.SegmentFile, new WalReader(Path.Combine(temp.Path, "wal")).ReadRecords(db.GetWalMetrics().LastLsn).Single().SegmentFile);
    }

    [Fact]
    public void SkipCorruptedEntries_DamagedTransactionMember_DropsTheWholeTransaction()
    {
        using var temp = new TempDirectory();
        List<WalRecord> records = Build(temp.Path, 1500);
        WalRecord member = records.First(r => r.Flags == WalRecordFlags.TransactionMember);
        WalTestHelpers.FlipBit(Path.Combine(temp.Path, "wal", member.SegmentFile), member.Offset + 50, 1);

        using var db = VectorDatabase.Open(temp.Path, Options(skip: true));
        Assert.Null(db.Get("docs", "tx-a"));
        Assert.Null(db.Get("docs", "tx-b"));
        Assert.NotNull(db.Get("docs", "last"));
    }

    [Fact]
    public void MaxRecoveryTimeMs_Exceeded_FailsClearly()
    {
        using var temp = new TempDirectory();
        Build(temp.Path, 3000);
        var ex = Assert.Throws<RecoveryTimeoutException>(() => VectorDatabase.Open(temp.Path, Options(maxMs: 1) with { }));
        Assert.Contains("MaxRecoveryTimeMs = 1", ex.Message, StringComparison.Ordinal);
        using var db = VectorDatabase.Open(temp.Path, Options());
        Assert.Equal(3003, db.Count("docs"));
    }
}
