using OxiVec.Indexing;
using OxiVec.Storage;
using OxiVec.Storage.Checkpoints;
using OxiVec.Wal;

namespace OxiVec.Tests.Storage;

/// <summary>A new checkpoint is read back before the WAL records it and before retention deletes anything.</summary>
public sealed class CheckpointReadBackTests
{
    private static readonly VectorDatabaseOptions Options = new()
    {
        Wal = WalConfig.Default with { SyncIntervalMs = 0, CheckpointInterval = 1_000_000, RetentionPolicy = RetentionPolicy.KeepLast(2) },
    };

    private static readonly CollectionOptions Flat = new(2) { Index = IndexKind.Flat, Metric = DistanceMetric.Euclidean };

    [Fact]
    public void CheckpointThatReadsBackDamaged_Throws_IsDeleted_OlderCheckpointsKept_NotLogged_DatabaseReopensWhole()
    {
        using var temp = new TempDirectory();
        string root = Path.Combine(temp.Path, CheckpointFiles.DirectoryName);
        var storage = new HookedCheckpointStorage();
        using (VectorDatabase db = VectorDatabase.Open(temp.Path, Options, walStorage: null, storage))
        {
            db.CreateCollection("docs", Flat);
            db.Insert("docs", "a", new float[] { 1, 1 });
            db.Checkpoint();
            db.Insert("docs", "b", new float[] { 2, 2 });
            CheckpointInfo second = db.Checkpoint();
            string[] before = [.. Directory.GetDirectories(root).Order(StringComparer.Ordinal)];
            Assert.Equal(2, before.Length); // KeepLast(2): retention would delete the oldest if the next one counted

            db.Insert("docs", "c", new float[] { 3, 3 });
            storage.DamageNewFiles = true;
            IOException failure = Assert.Throws<IOException>(() => db.Checkpoint());
            storage.DamageNewFiles = false;

            Assert.True(storage.DamagedReads > 0, "the new checkpoint was read back");
            Assert.Contains("read-back", failure.Message, StringComparison.Ordinal);
            Assert.Equal(before, Directory.GetDirectories(root).Order(StringComparer.Ordinal)); // damaged one gone, older two untouched
            Assert.Equal(second.Sequence, db.LastCheckpoint?.Sequence);
        }

        long[] logged = [.. new WalReader(Path.Combine(temp.Path, "wal")).ReadAllEntries().OfType<WalEntry.Checkpoint>().Select(c => c.Sequence)];
        Assert.Equal([1L, 2L], logged);

        using VectorDatabase reopened = VectorDatabase.Open(temp.Path, Options);
        Assert.Equal(2, reopened.LastCheckpoint?.Sequence); // recovered from the second, c replayed from the WAL
        Assert.True(reopened.Recovery.CheckpointLsn > 0);
        Assert.Equal(["a", "b", "c"], reopened.Export("docs").Select(r => r.Id).Order(StringComparer.Ordinal));
        Assert.Equal([3f, 3f], reopened.Get("docs", "c")!.Vector.ToArray());
    }
}
