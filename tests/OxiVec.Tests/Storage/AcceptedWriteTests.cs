using OxiVec.Storage;
using OxiVec.Wal;

namespace OxiVec.Tests.Storage;

/// <summary>The store keeps what a call accepted: a caller that edits or reuses its buffers afterwards changes nothing.</summary>
public sealed class AcceptedWriteTests
{
    private static readonly VectorDatabaseOptions Durable = new()
    {
        Wal = WalConfig.MaximumDurability with { SegmentSizeBytes = 256 << 10, MaxWalSize = 16 << 20, RetentionPolicy = RetentionPolicy.KeepAll },
    };

    private static VectorDatabase OpenWithDocs(TempDirectory temp)
    {
        var db = VectorDatabase.Open(temp.Path, Durable);
        if (!db.CollectionExists("docs"))
        {
            db.CreateCollection("docs", new CollectionOptions(3) { Index = IndexKind.Flat, Metric = OxiVec.Indexing.DistanceMetric.Euclidean });
        }

        return db;
    }

    private static void AssertHolds(VectorDatabase db, int count)
    {
        Assert.Equal(count, db.Count("docs"));
        for (int i = 0; i < count; i++)
        {
            VectorRecord r = db.Get("docs", $"r{i}")!;
            Assert.Equal(new float[] { i, 1, 1 }, r.Vector.ToArray());
            Assert.Equal(i, r.Metadata["i"].AsLong);
            Assert.False(r.Metadata.ContainsKey("later"));
            IReadOnlyList<SearchResult> hits = db.Search(
                "docs", new float[] { i, 1, 1 }, 1, new VectorSearchOptions { Filter = MetadataFilter.Parse($"i = {i}") });
            Assert.Equal($"r{i}", Assert.Single(hits).Id);
        }
    }

    [Fact]
    public void CallerEditsItsDictionaryAndBufferAfterInsertAndUpsert_ReadersFiltersCheckpointAndWalSeeTheAcceptedValues()
    {
        using var temp = new TempDirectory();
        var metadata = new Dictionary<string, MetadataValue>();
        float[] buffer = new float[3];
        using (VectorDatabase db = OpenWithDocs(temp))
        {
            for (int i = 0; i < 4; i++)
            {
                metadata["i"] = (long)i;
                (buffer[0], buffer[1], buffer[2]) = (i, 1, 1);
                if (i % 2 == 0)
                {
                    db.Insert("docs", $"r{i}", buffer, metadata);
                }
                else
                {
                    db.Upsert("docs", $"r{i}", buffer, metadata);
                }
            }

            metadata["i"] = 99L;
            metadata["later"] = true;
            buffer[0] = 99;
            AssertHolds(db, 4);
            db.Checkpoint();
            metadata.Clear();
            AssertHolds(db, 4);
        }

        using (VectorDatabase db = OpenWithDocs(temp))
        {
            AssertHolds(db, 4); // from the checkpoint
        }

        Directory.Delete(Path.Combine(temp.Path, "checkpoints"), recursive: true);
        using (VectorDatabase db = OpenWithDocs(temp))
        {
            AssertHolds(db, 4); // from the WAL alone
        }
    }

    [Fact]
    public void CallerReusesItsDictionaryAndBufferWhileStagingATransaction_EveryStagedRecordKeepsItsOwnValues()
    {
        using var temp = new TempDirectory();
        using VectorDatabase db = OpenWithDocs(temp);
        var metadata = new Dictionary<string, MetadataValue>();
        float[] buffer = new float[3];
        using (VectorTransaction tx = db.BeginTransaction())
        {
            for (int i = 0; i < 5; i++)
            {
                metadata["i"] = (long)i;
                (buffer[0], buffer[1], buffer[2]) = (i, 1, 1);
                tx.Insert("docs", $"r{i}", buffer, metadata);
            }

            metadata["later"] = true;
            buffer[0] = 99;
            tx.Commit();
        }

        AssertHolds(db, 5);
    }

    [Fact]
    public void InsertBatchFromAnEnumeratorThatReusesItsBuffers_EveryRecordKeepsItsOwnValues()
    {
        using var temp = new TempDirectory();
        using VectorDatabase db = OpenWithDocs(temp);
        var metadata = new Dictionary<string, MetadataValue>();
        float[] buffer = new float[3];

        IEnumerable<VectorRecord> Reusing()
        {
            for (int i = 0; i < 5; i++)
            {
                metadata["i"] = (long)i;
                (buffer[0], buffer[1], buffer[2]) = (i, 1, 1);
                yield return new VectorRecord($"r{i}", buffer, metadata);
            }

            metadata["later"] = true;
        }

        db.InsertBatch("docs", Reusing());
        buffer[0] = 99;
        AssertHolds(db, 5);
    }

    [Fact]
    public void MetadataHandedToReaders_CannotBeChangedThroughIt()
    {
        using var temp = new TempDirectory();
        using VectorDatabase db = OpenWithDocs(temp);
        db.Insert("docs", "r0", new float[] { 0, 1, 1 }, new Dictionary<string, MetadataValue> { ["i"] = 0L });
        IReadOnlyDictionary<string, MetadataValue> seen = db.Get("docs", "r0")!.Metadata;
        var asDictionary = seen as IDictionary<string, MetadataValue>;
        Assert.True(asDictionary is null || asDictionary.IsReadOnly);
        Assert.Throws<NotSupportedException>(() => asDictionary?.Add("later", true));
        AssertHolds(db, 1);
    }
}
