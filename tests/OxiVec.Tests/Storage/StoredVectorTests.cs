using OxiVec.Indexing;
using OxiVec.Storage;
using OxiVec.Wal;

namespace OxiVec.Tests.Storage;

/// <summary>
/// A collection whose index holds vectors as given (Euclidean, dot product) reads them from the index instead of a
/// copy of its own; every read path still returns each vector bit for bit, for every metric and index kind, also
/// after a checkpoint and a reopen, and while other records are rewritten.
/// </summary>
public sealed class StoredVectorTests
{
    private const int Dim = 12;

    public static TheoryData<DistanceMetric, IndexKind> Kinds() => new()
    {
        { DistanceMetric.Euclidean, IndexKind.Hnsw },
        { DistanceMetric.Euclidean, IndexKind.Flat },
        { DistanceMetric.DotProduct, IndexKind.Hnsw },
        { DistanceMetric.DotProduct, IndexKind.Flat },
        { DistanceMetric.Cosine, IndexKind.Hnsw },
        { DistanceMetric.Cosine, IndexKind.Flat },
    };

    private static VectorDatabaseOptions Options() => new()
    {
        Wal = WalConfig.MaximumDurability with { SegmentSizeBytes = 64 << 10, CheckpointInterval = 1_000_000 },
    };

    /// <summary>A vector whose bits depend on id and generation (values a unit-length scaling would change).</summary>
    private static float[] VectorOf(int id, int generation)
    {
        var v = new float[Dim];
        var random = new Random((id * 7919) + generation);
        for (int i = 0; i < Dim; i++)
        {
            v[i] = (float)((random.NextDouble() * 200) - 100) + (1e-7f * i);
        }

        v[0] = id + (generation * 0.5f) + 3.25f; // never all zero (cosine)
        return v;
    }

    private static void AssertBitwise(float[] expected, ReadOnlyMemory<float> actual) =>
        Assert.Equal(expected.Select(BitConverter.SingleToInt32Bits), actual.ToArray().Select(BitConverter.SingleToInt32Bits));

    [Fact]
    public void EuclideanAndDotProductCollections_KeepNoVectorCopyOfTheirOwn_CosineDoes()
    {
        foreach (IndexKind kind in new[] { IndexKind.Flat, IndexKind.Hnsw })
        {
            using var euclidean = new Collection("e", new CollectionOptions(Dim) { Metric = DistanceMetric.Euclidean, Index = kind });
            using var dot = new Collection("d", new CollectionOptions(Dim) { Metric = DistanceMetric.DotProduct, Index = kind });
            using var cosine = new Collection("c", new CollectionOptions(Dim) { Metric = DistanceMetric.Cosine, Index = kind });
            Assert.False(euclidean.KeepsOwnVectors);
            Assert.False(dot.KeepsOwnVectors);
            Assert.True(cosine.KeepsOwnVectors);
        }
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void GetScrollExportAndRecovery_ReturnEveryVectorBitForBit_AfterUpsertsDeletesAndACheckpoint(DistanceMetric metric, IndexKind kind)
    {
        using var temp = new TempDirectory();
        var expected = new Dictionary<string, float[]>();
        using (var db = VectorDatabase.Open(temp.Path, Options()))
        {
            db.CreateCollection("c", new CollectionOptions(Dim) { Metric = metric, Index = kind });
            for (int i = 0; i < 300; i++)
            {
                expected[$"v{i:D3}"] = VectorOf(i, 0);
                db.Upsert("c", $"v{i:D3}", expected[$"v{i:D3}"]);
            }

            for (int i = 0; i < 300; i += 3)
            {
                Assert.True(db.Delete("c", $"v{i:D3}"));
                expected.Remove($"v{i:D3}");
            }

            for (int i = 1; i < 300; i += 3)
            {
                expected[$"v{i:D3}"] = VectorOf(i, 1); // replaced: a new slot, the old one retired and later reused
                db.Upsert("c", $"v{i:D3}", expected[$"v{i:D3}"]);
            }

            db.Checkpoint();
            for (int i = 300; i < 340; i++) // after the checkpoint: replayed from the WAL, reusing freed slots
            {
                expected[$"v{i:D3}"] = VectorOf(i, 0);
                db.Upsert("c", $"v{i:D3}", expected[$"v{i:D3}"]);
            }

            AssertReads(db, expected);
        }

        using (var reopened = VectorDatabase.Open(temp.Path, Options()))
        {
            AssertReads(reopened, expected);
            reopened.Checkpoint(); // a checkpoint of the recovered state, then a reopen from it alone
        }

        using var again = VectorDatabase.Open(temp.Path, Options());
        AssertReads(again, expected);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void CheckpointImage_HoldsEachRecordsOwnVector_NotTheReusedReadBuffer(DistanceMetric metric, IndexKind kind)
    {
        using var collection = new Collection("c", new CollectionOptions(Dim) { Metric = metric, Index = kind });
        for (int i = 0; i < 50; i++)
        {
            collection.Upsert($"v{i}", VectorOf(i, 0), new Dictionary<string, MetadataValue>());
        }

        CollectionImage image;
        using (CollectionCapture capture = collection.Capture())
        {
            image = capture.ToImage();
        }

        Assert.Equal(50, image.Records.Count);
        foreach (SlottedRecord r in image.Records)
        {
            AssertBitwise(VectorOf(int.Parse(r.Record.Id[1..]), 0), r.Record.Vector);
        }
    }

    [Theory]
    [InlineData(DistanceMetric.Euclidean, IndexKind.Hnsw)]
    [InlineData(DistanceMetric.DotProduct, IndexKind.Flat)]
    [InlineData(DistanceMetric.Cosine, IndexKind.Hnsw)]
    public async Task ReadsDuringUpsertsAndDeletesOfTheSameIds_ReturnOnlyVectorsThatWereWritten(DistanceMetric metric, IndexKind kind)
    {
        using var temp = new TempDirectory();
        using var db = VectorDatabase.Open(temp.Path, Options() with { Wal = WalConfig.HighThroughput with { CheckpointInterval = 1_000_000 } });
        db.CreateCollection("c", new CollectionOptions(Dim) { Metric = metric, Index = kind });
        const int Ids = 40;
        const int Generations = 60;
        var written = new HashSet<string>(StringComparer.Ordinal);
        for (int id = 0; id < Ids; id++)
        {
            for (int g = 0; g < Generations; g++)
            {
                written.Add(Key(VectorOf(id, g)));
            }

            db.Upsert("c", $"v{id}", VectorOf(id, 0));
        }

        var failures = new List<string>();
        using var done = new CancellationTokenSource();
        var reader = Task.Run(() =>
        {
            int rounds = 0;
            while ((!done.IsCancellationRequested || rounds < 3) && rounds < 100_000)
            {
                rounds++;
                foreach (VectorRecord r in db.Export("c").Concat(db.Scroll("c", null, null, 15)))
                {
                    if (!written.Contains(Key(r.Vector.ToArray())))
                    {
                        lock (failures)
                        {
                            failures.Add($"{r.Id}: a vector never written");
                        }
                    }
                }

                VectorRecord? one = db.Get("c", $"v{rounds % Ids}");
                if (one is not null && !written.Contains(Key(one.Vector.ToArray())))
                {
                    lock (failures)
                    {
                        failures.Add($"{one.Id}: Get returned a vector never written");
                    }
                }
            }
        });

        for (int g = 1; g < Generations; g++)
        {
            for (int id = 0; id < Ids; id++)
            {
                if ((id + g) % 5 == 0)
                {
                    db.Delete("c", $"v{id}");
                }
                else
                {
                    db.Upsert("c", $"v{id}", VectorOf(id, g)); // the old slot is retired, then reused by another id
                }
            }
        }

        done.Cancel();
        await reader.WaitAsync(TimeSpan.FromMinutes(2));
        Assert.Empty(failures);
        for (int id = 0; id < Ids; id++)
        {
            int last = Generations - 1;
            VectorRecord? r = db.Get("c", $"v{id}");
            if ((id + last) % 5 == 0)
            {
                Assert.Null(r);
            }
            else
            {
                AssertBitwise(VectorOf(id, last), r!.Vector);
            }
        }
    }

    private static string Key(float[] v) => string.Join(',', v.Select(BitConverter.SingleToInt32Bits));

    private static void AssertReads(VectorDatabase db, Dictionary<string, float[]> expected)
    {
        Assert.Equal(expected.Count, db.Count("c"));
        foreach ((string id, float[] vector) in expected)
        {
            AssertBitwise(vector, db.Get("c", id)!.Vector);
        }

        IReadOnlyList<VectorRecord> exported = db.Export("c");
        Assert.Equal(expected.Count, exported.Count);
        foreach (VectorRecord r in exported)
        {
            AssertBitwise(expected[r.Id], r.Vector);
        }

        string? from = null;
        int seen = 0;
        while (true)
        {
            IReadOnlyList<VectorRecord> page = db.Scroll("c", null, from, 33);
            foreach (VectorRecord r in page.Take(32))
            {
                AssertBitwise(expected[r.Id], r.Vector);
                seen++;
            }

            if (page.Count < 33)
            {
                break;
            }

            from = page[32].Id;
        }

        Assert.Equal(expected.Count, seen);
    }
}
