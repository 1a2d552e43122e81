using OxiVec.Indexing;
using OxiVec.Storage;
using OxiVec.Wal;

namespace OxiVec.Tests.Storage;

public sealed class VectorDatabaseTests
{
    private static readonly VectorDatabaseOptions Durable = new() { Wal = WalConfig.MaximumDurability with { SegmentSizeBytes = 256 << 10, MaxWalSize = 16 << 20 } };

    private static float[] Vec(params float[] values) => values;

    private static Dictionary<string, MetadataValue> Meta(long i) => new() { ["i"] = i, ["group"] = i % 10, ["name"] = $"n{i}" };

    [Fact]
    public async Task WaitForApplied_OnAClosedDatabase_ThrowsInsteadOfReportingTheLsnReached()
    {
        using var temp = new TempDirectory();
        var db = VectorDatabase.Open(temp.Path, Durable);
        db.CreateCollection("docs", new CollectionOptions(2));
        long lsn = db.Insert("docs", "a", Vec(1, 0));
        Assert.True(await db.WaitForAppliedAsync(lsn, TimeSpan.Zero));
        Assert.False(await db.WaitForAppliedAsync(lsn + 1, TimeSpan.Zero));

        // One wait in progress when the database closes, one begun after: neither may report the LSN as applied.
        Task<bool> pending = db.WaitForAppliedAsync(lsn + 1, TimeSpan.FromMinutes(1)).AsTask();
        Assert.False(pending.IsCompleted);
        db.Dispose();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => pending.WaitAsync(TimeSpan.FromMinutes(1)));
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await db.WaitForAppliedAsync(lsn + 1, TimeSpan.FromMinutes(1)));
    }

    [Fact]
    public void WritesSurviveReopen_AndReplayRebuildsTheSameState()
    {
        using var temp = new TempDirectory();
        using (var db = VectorDatabase.Open(temp.Path, Durable))
        {
            db.CreateCollection("docs", new CollectionOptions(3) { Metric = DistanceMetric.Euclidean, Index = IndexKind.Flat });
            db.CreateCollection("other", new CollectionOptions(2));
            db.Insert("docs", "a", Vec(1, 0, 0), Meta(1));
            db.Insert("docs", "b", Vec(0, 1, 0), Meta(2));
            db.Upsert("docs", "c", Vec(0, 0, 1));
            db.Update("docs", "a", Vec(2, 0, 0), Meta(7));
            Assert.True(db.Delete("docs", "b"));
            Assert.False(db.Delete("docs", "b"));
            db.Insert("other", "x", Vec(1, 1));
            Assert.True(db.DropCollection("other"));
        }

        using (var db = VectorDatabase.Open(temp.Path, Durable))
        {
            Assert.Equal(["docs"], db.ListCollections().Select(c => c.Name));
            Assert.Equal(2, db.Count("docs"));
            VectorRecord a = db.Get("docs", "a")!;
            Assert.Equal(Vec(2, 0, 0), a.Vector.ToArray());
            Assert.Equal(7L, a.Metadata["i"].AsLong);
            Assert.Null(db.Get("docs", "b"));
            Assert.Empty(db.Get("docs", "c")!.Metadata);
            Assert.Equal(DistanceMetric.Euclidean, db.GetCollection("docs").Options.Metric);
            Assert.Equal(db.WalOpenReport.LastLsn, db.Recovery.LastLsn);
            Assert.Equal(9, db.Recovery.AppliedEntries);

            IReadOnlyList<SearchResult> hits = db.Search("docs", Vec(1.9f, 0, 0), 2);
            Assert.Equal(["a", "c"], hits.Select(h => h.Id));
            Assert.Equal(0.1f, hits[0].Score, 4);
        }
    }

    [Fact]
    public void BadInput_GetsAClearErrorAndChangesNothing()
    {
        using var temp = new TempDirectory();
        using var db = VectorDatabase.Open(temp.Path, Durable);
        db.CreateCollection("docs", new CollectionOptions(3));
        db.Insert("docs", "a", Vec(1, 2, 3));
        long lsn = db.GetWalMetrics().LastLsn;

        Assert.Contains("3", Assert.Throws<ArgumentException>(() => db.Insert("docs", "b", Vec(1, 2))).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => db.Insert("docs", "b", Vec(1, float.NaN, 3)));
        Assert.Throws<ArgumentException>(() => db.Insert("docs", "b", Vec(1, float.PositiveInfinity, 3)));
        Assert.Throws<ArgumentException>(() => db.Insert("docs", "b", Vec(0, 0, 0)));
        Assert.Equal("id", Assert.Throws<ArgumentException>(() => db.Insert("docs", "", Vec(1, 2, 3))).ParamName);
        Assert.Equal("id", Assert.Throws<ArgumentException>(() => db.Insert("docs", new string('x', 600), Vec(1, 2, 3))).ParamName);
        Assert.Contains("'nope'", Assert.Throws<KeyNotFoundException>(() => db.Insert("nope", "b", Vec(1, 2, 3))).Message, StringComparison.Ordinal);
        Assert.Contains("Upsert", Assert.Throws<InvalidOperationException>(() => db.Insert("docs", "a", Vec(1, 2, 3))).Message, StringComparison.Ordinal);
        Assert.Throws<RecordNotFoundException>(() => db.Update("docs", "zz", Vec(1, 2, 3)));
        Assert.Throws<InvalidOperationException>(() => db.CreateCollection("docs", new CollectionOptions(3)));
        Assert.Throws<ArgumentException>(() => db.CreateCollection("bad name!", new CollectionOptions(3)));
        Assert.Throws<ArgumentException>(() => db.Search("docs", Vec(1, 2), 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new CollectionOptions(0));

        Assert.Equal(lsn, db.GetWalMetrics().LastLsn);
        Assert.Equal(1, db.Count("docs"));
        Assert.Equal(Vec(1, 2, 3), db.Get("docs", "a")!.Vector.ToArray());
    }

    [Fact]
    public void Transaction_AcrossCollections_IsAllOrNothing()
    {
        using var temp = new TempDirectory();
        using (var db = VectorDatabase.Open(temp.Path, Durable))
        {
            db.CreateCollection("a", new CollectionOptions(2));
            db.CreateCollection("b", new CollectionOptions(2));
            db.Insert("b", "taken", Vec(1, 0));
            long before = db.GetWalMetrics().LastLsn;

            using (VectorTransaction failing = db.BeginTransaction())
            {
                failing.Insert("a", "x", Vec(1, 0));
                failing.Delete("b", "taken");
                failing.Insert("b", "taken", Vec(0, 1));
                failing.Insert("b", "taken", Vec(0, 1)); // inserted twice in one transaction: refused
                Assert.Throws<InvalidOperationException>(() => failing.Commit());
            }

            Assert.Equal(before, db.GetWalMetrics().LastLsn);
            Assert.Equal(0, db.Count("a"));

            using VectorTransaction tx = db.BeginTransaction();
            tx.Insert("a", "x", Vec(1, 0));
            tx.Delete("b", "taken");
            tx.Insert("b", "new", Vec(0, 1));
            tx.Upsert("a", "x", Vec(0.5f, 0.5f));
            Assert.Equal(before + 6, tx.Commit());
            Assert.Equal(Vec(0.5f, 0.5f), db.Get("a", "x")!.Vector.ToArray());
        }

        using var reopened = VectorDatabase.Open(temp.Path, Durable);
        Assert.Equal(1, reopened.Count("a"));
        Assert.Equal(["new"], reopened.Export("b").Select(r => r.Id));
    }

    [Fact]
    public void UncommittedTransactionInTheLog_IsNotApplied()
    {
        using var temp = new TempDirectory();
        using (var db = VectorDatabase.Open(temp.Path, Durable))
        {
            db.CreateCollection("docs", new CollectionOptions(2) { Index = IndexKind.Flat });
            db.Insert("docs", "kept", Vec(1, 0));
        }

        // A transaction whose commit record never reached the disk: committed, then its last record zeroed.
        string walDir = Path.Combine(temp.Path, "wal");
        using (var wal = WalManager.Open(Durable.Wal with { WalDir = walDir }))
        {
            using WalTransaction tx = wal.BeginTransaction();
            tx.LogInsert("docs", "ghost", Vec(0, 1));
            tx.Commit();
            WalRecord commit = wal.ReadRecords().Last();
            Assert.Equal(WalRecordType.TransactionCommit, commit.Type);
            wal.Dispose();
            using var file = new FileStream(Path.Combine(walDir, commit.SegmentFile), FileMode.Open, FileAccess.Write);
            file.Position = commit.Offset;
            file.Write(new byte[WalFormat.RecordSize(commit.Payload.Length)]);
            // Nor had the control file recorded it durable (the crash came first).
            OxiVec.Tests.Wal.WalTestHelpers.SetKnownDurableThrough(new FileSystemWalStorage(walDir), commit.SegmentFile, commit.Offset, commit.Lsn - 1);
        }

        using var reopened = VectorDatabase.Open(temp.Path, Durable);
        Assert.Null(reopened.Get("docs", "ghost"));
        Assert.Equal(1, reopened.Count("docs"));
    }

    [Fact]
    public void FilteredHnswSearch_ReturnsKWheneverKRecordsMatch()
    {
        using var temp = new TempDirectory();
        using var db = VectorDatabase.Open(temp.Path, new VectorDatabaseOptions { Wal = WalConfig.HighThroughput });
        db.CreateCollection("docs", new CollectionOptions(16) { Metric = DistanceMetric.Cosine });
        var random = new Random(5);
        var records = new List<VectorRecord>();
        for (int i = 0; i < 3000; i++)
        {
            float[] v = new float[16];
            for (int d = 0; d < v.Length; d++)
            {
                v[d] = (float)random.NextDouble() - 0.5f;
            }

            records.Add(new VectorRecord($"v{i}", v, Meta(i)));
        }

        db.InsertBatch("docs", records);
        var query = records[17].Vector.ToArray();

        IReadOnlyList<SearchResult> rare = db.Search("docs", query, 10, new VectorSearchOptions { Filter = MetadataFilter.Parse("i < 7") });
        Assert.Equal(7, rare.Count);
        Assert.All(rare, r => Assert.True(r.Metadata["i"].AsLong < 7));

        IReadOnlyList<SearchResult> group = db.Search("docs", query, 10, new VectorSearchOptions { Filter = MetadataFilter.Parse("group = 3 and i >= 1000") });
        Assert.Equal(10, group.Count);
        Assert.All(group, r => Assert.Equal(3L, r.Metadata["group"].AsLong));
        IReadOnlyList<SearchResult> exact = db.Search("docs", query, 10, new VectorSearchOptions { Filter = MetadataFilter.Parse("group = 3 and i >= 1000"), Exact = true });
        Assert.True(group.Select(r => r.Id).Intersect(exact.Select(r => r.Id)).Count() >= 9);

        Assert.Equal("v17", db.Search("docs", query, 1)[0].Id);
    }

    [Fact]
    public async Task ConcurrentWritersAndReaders_EveryAcknowledgedWriteIsVisibleAndSurvives()
    {
        using var temp = new TempDirectory();
        using (var db = VectorDatabase.Open(temp.Path, Durable))
        {
            db.CreateCollection("docs", new CollectionOptions(4) { Index = IndexKind.Hnsw, Metric = DistanceMetric.Euclidean });
            using var stop = new CancellationTokenSource();
            Task reader = Task.Run(() =>
            {
                while (!stop.IsCancellationRequested)
                {
                    db.Search("docs", Vec(1, 2, 3, 4), 5);
                }
            });

            await Task.WhenAll(Enumerable.Range(0, 8).Select(t => Task.Run(async () =>
            {
                for (int i = 0; i < 40; i++)
                {
                    string id = $"t{t}-{i}";
                    await db.InsertAsync("docs", id, Vec(t, i, 1, 1));
                    Assert.NotNull(db.Get("docs", id)); // read-your-writes once acknowledged
                }
            })));
            await stop.CancelAsync();
            await reader;
            Assert.Equal(320, db.Count("docs"));
            // Sharing fsyncs depends on timing here; StoreGroupCommitTests shows it by holding an fsync open.
        }

        using var reopened = VectorDatabase.Open(temp.Path, Durable);
        Assert.Equal(320, reopened.Count("docs"));
    }

    [Fact]
    public void SecondOpen_OfTheSameDataDirectory_IsRefused()
    {
        using var temp = new TempDirectory();
        using var db = VectorDatabase.Open(temp.Path, Durable);
        Assert.Throws<WalLockedException>(() => VectorDatabase.Open(temp.Path, Durable));
    }
}
