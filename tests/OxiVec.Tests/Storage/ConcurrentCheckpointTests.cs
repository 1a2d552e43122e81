using OxiVec.Indexing;
using OxiVec.Storage;
using OxiVec.Storage.Checkpoints;
using OxiVec.Tests.Wal;
using OxiVec.Wal;

namespace OxiVec.Tests.Storage;

/// <summary>Checkpoints stream while writes go on, stay exact, never buffer the store, and back off when they fail.</summary>
public sealed class ConcurrentCheckpointTests
{
    private static readonly CollectionOptions Flat = new(2) { Index = IndexKind.Flat, Metric = DistanceMetric.Euclidean };

    private static VectorDatabaseOptions Durable(TimeProvider? clock = null, long maxWalSize = 256 << 20) => new()
    {
        Wal = WalConfig.MaximumDurability with { SegmentSizeBytes = 64 << 10, MaxWalSize = maxWalSize, CheckpointInterval = int.MaxValue },
        TimeProvider = clock,
    };

    [Fact]
    public async Task CheckpointHeldWhileStreamingRecords_InsertUpsertAndDeleteCompleteAndAreVisible_AndTheCheckpointHoldsTheStateItCovers()
    {
        using var temp = new TempDirectory();
        var storage = new HookedCheckpointStorage();
        using var held = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        int holds = 0;
        storage.OnWrite = path =>
        {
            if (path.EndsWith("c0.records", StringComparison.Ordinal) && Interlocked.Exchange(ref holds, 1) == 0)
            {
                held.Set();
                release.Wait(); // the checkpoint is held before its first record is written, its capture taken
            }
        };

        CheckpointInfo info;
        using (VectorDatabase db = VectorDatabase.Open(temp.Path, Durable(), walStorage: null, storage))
        {
            db.CreateCollection("docs", Flat);
            for (int i = 0; i < 100; i++)
            {
                db.Insert("docs", $"v{i}", new float[] { i, 1 });
            }

            Task<CheckpointInfo> checkpoint = Task.Run(db.Checkpoint);
            Assert.True(held.Wait(TimeSpan.FromMinutes(2)), "the checkpoint reached its records file");

            // While the checkpoint streams: every kind of write completes, and is visible at once.
            db.Insert("docs", "new", new float[] { 500, 500 });
            db.Upsert("docs", "v1", new float[] { -1, -1 });
            Assert.True(db.Delete("docs", "v2"));
            db.Insert("docs", "after-delete", new float[] { 600, 600 }); // would reuse v2's slot if the capture did not hold it back
            Assert.Equal([500f, 500f], db.Get("docs", "new")!.Vector.ToArray());
            Assert.Equal([-1f, -1f], db.Get("docs", "v1")!.Vector.ToArray());
            Assert.Null(db.Get("docs", "v2"));
            Assert.Equal(101, db.Count("docs"));
            Assert.Equal("new", db.Search("docs", new float[] { 501, 501 }, 1, new VectorSearchOptions { Exact = true })[0].Id);
            Assert.Equal("v1", db.Search("docs", new float[] { -1, -1 }, 1, new VectorSearchOptions { Exact = true })[0].Id);
            Assert.False(checkpoint.IsCompleted);

            release.Set();
            info = await checkpoint;
        }

        // The checkpoint holds exactly the state at its LSN: none of the writes made while it streamed.
        CheckpointData data = CheckpointFiles.Read(new CheckpointEntry(info.Sequence, info.CoveredLsn, info.Path));
        Dictionary<string, float[]> captured = data.Collections.Single().Records.ToDictionary(r => r.Id, r => r.Vector.ToArray());
        Assert.Equal(Enumerable.Range(0, 100).Select(i => $"v{i}").Order(), captured.Keys.Order());
        Assert.Equal([1f, 1f], captured["v1"]);
        Assert.Equal([2f, 1f], captured["v2"]);
        data.Collections.Single().Index?.Dispose();

        using (VectorDatabase reopened = VectorDatabase.Open(temp.Path, Durable()))
        {
            Assert.Equal(info.CoveredLsn, reopened.Recovery.CheckpointLsn);
            Assert.Equal(101, reopened.Count("docs"));
            Assert.Equal([-1f, -1f], reopened.Get("docs", "v1")!.Vector.ToArray());
            Assert.Null(reopened.Get("docs", "v2"));
            Assert.Equal([600f, 600f], reopened.Get("docs", "after-delete")!.Vector.ToArray());
        }
    }

    [Fact]
    public async Task HnswCheckpoint_ReleasesTheIndexViewOnceTheIndexIsWritten_WritesWhileTheRecordsStreamCopyNothing_AndTheCheckpointIsExact()
    {
        const int Dimension = 8;
        using var temp = new TempDirectory();
        var storage = new HookedCheckpointStorage();
        using var held = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        int holds = 0;
        storage.OnWrite = path =>
        {
            if (path.EndsWith("c0.records", StringComparison.Ordinal) && Interlocked.Exchange(ref holds, 1) == 0)
            {
                held.Set();
                release.Wait(); // held before its first record is written: the index file is written by now
            }
        };

        var random = new Random(11);
        float[] Vector() => [.. Enumerable.Range(0, Dimension).Select(_ => (float)random.NextDouble())];
        var hnsw = new CollectionOptions(Dimension) { Index = IndexKind.Hnsw, Metric = DistanceMetric.Euclidean };
        var captured = new Dictionary<string, float[]>(StringComparer.Ordinal);
        CheckpointInfo info;
        using (VectorDatabase db = VectorDatabase.Open(temp.Path, Durable(), walStorage: null, storage))
        {
            db.CreateCollection("graph", hnsw);
            for (int i = 0; i < 1_000; i++)
            {
                captured[$"v{i}"] = Vector();
            }

            db.InsertBatch("graph", captured.Select(p => new VectorRecord(p.Key, p.Value, new Dictionary<string, MetadataValue>())));
            Task<CheckpointInfo> checkpoint = Task.Run(db.Checkpoint);
            Assert.True(held.Wait(TimeSpan.FromMinutes(2)), "the checkpoint reached its records file");

            // The records stream; the index's view is gone, so the graph's writes change their chunks in place.
            (long copies, long bytes) = db.IndexCopyOnWrite("graph");
            for (int i = 0; i < 200; i++)
            {
                db.Insert("graph", $"w{i}", Vector());
            }

            db.Upsert("graph", "v1", Vector());
            Assert.True(db.Delete("graph", "v2"));
            Assert.Equal((copies, bytes), db.IndexCopyOnWrite("graph"));
            Assert.False(checkpoint.IsCompleted);

            release.Set();
            info = await checkpoint;

            // A view that lives does make writes copy (the measure above can see copies).
            (long copiesBefore, _) = db.IndexCopyOnWrite("graph");
            storage.OnWrite = path =>
            {
                if (path.EndsWith("c0.index", StringComparison.Ordinal) && Interlocked.Exchange(ref holds, 2) == 1)
                {
                    for (int i = 0; i < 50; i++)
                    {
                        db.Insert("graph", $"x{i}", Vector()); // on the checkpointing thread, while the view is alive
                    }
                }
            };
            _ = db.Checkpoint();
            Assert.True(db.IndexCopyOnWrite("graph").Copies > copiesBefore, "writes while the index view lived copied chunks");
        }

        // The first checkpoint holds exactly the state at its LSN (none of the writes made while it streamed), its graph included.
        CheckpointData data = CheckpointFiles.Read(new CheckpointEntry(info.Sequence, info.CoveredLsn, info.Path));
        CheckpointCollection graph = data.Collections.Single();
        Assert.Equal(captured.Keys.Order(), graph.Records.Select(r => r.Id).Order());
        foreach (VectorRecord r in graph.Records)
        {
            Assert.Equal(captured[r.Id], r.Vector.ToArray());
        }

        Assert.NotNull(graph.Index);
        Assert.Equal(1_000, graph.Index!.Count);
        graph.Index.Dispose();

        using VectorDatabase reopened = VectorDatabase.Open(temp.Path, Durable());
        Assert.Equal(1_000 + 200 - 1 + 50, reopened.Count("graph"));
        Assert.Null(reopened.Get("graph", "v2"));
        Assert.Equal(captured["v5"], reopened.Get("graph", "v5")!.Vector.ToArray());
        Assert.Equal("v5", reopened.Search("graph", captured["v5"], 1, new VectorSearchOptions { Exact = true })[0].Id);
    }

    [Fact]
    public void CheckpointSteadyState_AllocatesNothingPerRecord_EvenWithMetadata_AndStaysExact()
    {
        using var temp = new TempDirectory();
        var options = new VectorDatabaseOptions { Wal = WalConfig.Balanced with { CheckpointInterval = int.MaxValue, MaxWalSize = 1L << 30 } };
        const int Dimension = 32, First = 4_000, Added = 12_000;
        var random = new Random(5);
        VectorRecord Record(int i) => new(
            $"doc-{i}",
            Enumerable.Range(0, Dimension).Select(_ => random.NextSingle()).ToArray(),
            new Dictionary<string, MetadataValue>
            {
                ["title"] = MetadataValue.From($"title {i}"),
                ["n"] = MetadataValue.From((long)i),
                ["score"] = MetadataValue.From(i / 7.0),
                ["tags"] = MetadataValue.From(["a", $"t{i % 5}"]),
                ["ok"] = MetadataValue.From(i % 2 == 0),
                ["nested"] = MetadataValue.FromList([MetadataValue.From(1L), MetadataValue.From("x")]),
            });

        long first, second;
        using (VectorDatabase db = VectorDatabase.Open(temp.Path, options))
        {
            db.CreateCollection("docs", new CollectionOptions(Dimension) { Index = IndexKind.Flat, Metric = DistanceMetric.Euclidean });
            _ = db.InsertBatch("docs", Enumerable.Range(0, First).Select(Record));
            _ = db.Checkpoint(); // warm-up: the pooled buffers are rented for the first time
            first = AllocatedBy(db.Checkpoint);
            _ = db.InsertBatch("docs", Enumerable.Range(First, Added).Select(Record));
            second = AllocatedBy(db.Checkpoint);
        }

        // Every record's id, vector and metadata were encoded into pooled buffers: 4x the records cost what 1x did,
        // give or take the per-checkpoint bookkeeping (paths, the MANIFEST, log lines). Before, the metadata alone
        // allocated a few hundred bytes per record, and every file a 1 MiB stream buffer (measured here: about 15 KB, then
        // 1.5 KB more for the larger store).
        Assert.True(first < 64 << 10, $"a checkpoint of {First} records allocated {first} bytes");
        Assert.True(second - first < Added / 2, $"{Added} more records made the checkpoint allocate {second - first} bytes more ({first} then {second})");

        using VectorDatabase reopened = VectorDatabase.Open(temp.Path, options);
        Assert.Equal(First + Added, reopened.Count("docs"));
        VectorRecord last = reopened.Get("docs", $"doc-{First + Added - 1}")!;
        Assert.Equal(MetadataValue.From((long)(First + Added - 1)), last.Metadata["n"]);
        Assert.Equal(MetadataValue.From(["a", $"t{(First + Added - 1) % 5}"]), last.Metadata["tags"]);

        // The fewer of two checkpoints in a row: a shared ArrayPool trims idle buffers at a gen 2 collection, and one
        // that was trimmed between the checkpoints is allocated again (8 KB once in a CI run); a per-record
        // allocation shows in both.
        static long AllocatedBy(Func<CheckpointInfo> checkpoint) => Math.Min(AllocatedByOne(checkpoint), AllocatedByOne(checkpoint));

        static long AllocatedByOne(Func<CheckpointInfo> checkpoint)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            _ = checkpoint();
            return GC.GetAllocatedBytesForCurrentThread() - before;
        }
    }

    [Fact]
    public void CheckpointOfALargeCollection_StreamsItsRecords_AllocatingFarLessThanTheVectors()
    {
        const int Dimension = 1024;
        const int Records = 10_000;
        using var temp = new TempDirectory();
        var storage = new HookedCheckpointStorage();
        using VectorDatabase db = VectorDatabase.Open(
            temp.Path, new VectorDatabaseOptions { Wal = WalConfig.Balanced with { CheckpointInterval = int.MaxValue, MaxWalSize = 1L << 30 } }, walStorage: null, storage);
        db.CreateCollection("docs", new CollectionOptions(Dimension) { Index = IndexKind.Flat });
        var random = new Random(7);
        for (int batch = 0; batch < Records / 500; batch++)
        {
            db.InsertBatch("docs", Enumerable.Range(batch * 500, 500).Select(i =>
                new VectorRecord($"v{i}", Enumerable.Range(0, Dimension).Select(_ => (float)random.NextDouble()).ToArray(), new Dictionary<string, MetadataValue>())));
        }

        long vectorBytes = (long)Records * Dimension * sizeof(float);
        long before = GC.GetAllocatedBytesForCurrentThread();
        CheckpointInfo info = db.Checkpoint();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(info.Bytes > vectorBytes, $"the checkpoint holds every vector ({info.Bytes} bytes)");
        Assert.True(allocated < vectorBytes / 2, $"the checkpoint allocated {allocated} bytes for {vectorBytes} bytes of vectors: it copied the store");
        Assert.True(storage.LargestWrite["c0.records"] < 1 << 20, $"the records file was written in pieces of at most {storage.LargestWrite["c0.records"]} bytes");
    }

    [Fact]
    public void FailingCheckpoint_UnderTheWalSizeTrigger_BacksOffInsteadOfRetryingAfterEveryWrite_AndSaysWhatFailed()
    {
        using var temp = new TempDirectory();
        var clock = new ManualClock(DateTimeOffset.UnixEpoch.AddYears(56));
        var storage = new HookedCheckpointStorage();
        bool failing = true;
        int attempts = 0;
        storage.OnCreateDirectory = path =>
        {
            if (Volatile.Read(ref failing))
            {
                Interlocked.Increment(ref attempts);
                throw new IOException("injected: no space left on device");
            }
        };

        using VectorDatabase db = VectorDatabase.Open(temp.Path, Durable(clock, maxWalSize: 64 << 10), walStorage: null, storage);
        db.CreateCollection("docs", new CollectionOptions(64) { Index = IndexKind.Flat });
        var vector = new float[64];
        int next = 0;
        void Write(int count)
        {
            for (int i = 0; i < count; i++, next++)
            {
                vector[0] = next + 1;
                db.Insert("docs", $"v{next}", vector);
                db.BackgroundCheckpoint.Wait(); // a checkpoint the write started has finished (it swallows its failure)
            }
        }

        Write(600); // several times the WAL-size trigger: every write after the first failure is over it
        Assert.Equal(1, Volatile.Read(ref attempts));
        CheckpointFailure failure = db.LastCheckpointFailure!;
        Assert.Equal(1, failure.ConsecutiveFailures);
        Assert.Equal(TimeSpan.FromSeconds(1), failure.RetryAfter);
        Assert.Contains("no space left", failure.Message, StringComparison.Ordinal);
        Assert.Null(db.LastCheckpoint);

        clock.Advance(TimeSpan.FromSeconds(1.5));
        Write(50);
        Assert.Equal(2, Volatile.Read(ref attempts));
        Assert.Equal(2, db.LastCheckpointFailure!.ConsecutiveFailures);
        Assert.Equal(TimeSpan.FromSeconds(2), db.LastCheckpointFailure.RetryAfter);

        Volatile.Write(ref failing, false);
        clock.Advance(TimeSpan.FromSeconds(2.5));
        Write(1);
        Assert.NotNull(db.LastCheckpoint);
        Assert.Null(db.LastCheckpointFailure);
    }

    [Fact]
    public void SearchDuringAMultiCollectionTransaction_SeesAllOfItOrNone_AndNeverWaitsForIt()
    {
        using var temp = new TempDirectory();
        using VectorDatabase db = VectorDatabase.Open(temp.Path, Durable());
        db.CreateCollection("a", Flat);
        db.CreateCollection("b", Flat);
        db.Insert("a", "x", new float[] { 1, 0 });
        db.Insert("b", "y", new float[] { 1, 0 }, new Dictionary<string, MetadataValue> { ["gen"] = 1L });

        string View() => string.Join(" | ", new[] { "a", "b" }.Select(c => c + ":" + string.Join(",",
            db.Search(c, new float[] { 1, 0 }, 10, new VectorSearchOptions { Exact = true })
                .Select(r => r.Metadata.TryGetValue("gen", out MetadataValue g) ? $"{r.Id}@{g.AsLong}" : r.Id).Order())));

        string before = View();
        var during = new List<string>();
        int applied = 0;
        db.FaultInjector = _ =>
        {
            // Between the commit's operations, on the applying thread itself: a search must not wait for the commit.
            if (++applied > 1)
            {
                during.Add(View());
            }
        };
        using (VectorTransaction tx = db.BeginTransaction())
        {
            tx.Insert("a", "n1", new float[] { 2, 0 });
            tx.Upsert("b", "y", new float[] { 3, 0 }, new Dictionary<string, MetadataValue> { ["gen"] = 2L });
            tx.Delete("a", "x");
            tx.Insert("b", "n2", new float[] { 4, 0 });
            tx.Commit();
        }

        db.FaultInjector = null;
        Assert.Equal("a:x | b:y@1", before);
        Assert.Equal(3, during.Count);
        Assert.All(during, view => Assert.Equal(before, view));
        Assert.Equal("a:n1 | b:n2,y@2", View());
    }

    [Fact]
    public void HnswCheckpointCapturedWhileARemovalIsDeferred_RestoresWithoutTheRemovedNode()
    {
        var options = new CollectionOptions(2) { Index = IndexKind.Hnsw };
        var none = new Dictionary<string, MetadataValue>();
        using var original = new Collection("docs", options);
        original.Upsert("a", [1, 0], none);
        original.Upsert("b", [0, 1], none);
        using CollectionCapture reader = original.Capture(); // reads at the version before the delete: b's node must stay
        Assert.True(original.Delete("b"));
        Assert.True(original.Index.Contains(1));

        CollectionImage image;
        using (CollectionCapture capture = original.Capture())
        {
            image = capture.ToImage();
        }

        Assert.Equal(["a"], image.Records.Select(r => r.Record.Id));
        Assert.Equal(2, reader.Records().Count()); // the older capture still reads b, intact

        IVectorIndex index = VectorIndexSnapshot.ReadSnapshot(new MemoryStream(image.IndexSnapshot));
        using Collection restored = Collection.Restore("docs", options, image, index);
        Assert.Equal(1, restored.Index.Count);
        Assert.Equal(["a"], restored.Search([0, 1], 5, new VectorSearchOptions()).Select(r => r.Id));
    }
}
