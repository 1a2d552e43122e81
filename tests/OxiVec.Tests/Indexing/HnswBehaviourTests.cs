using OxiVec.Indexing;
using static OxiVec.Tests.Indexing.IndexTestData;

namespace OxiVec.Tests.Indexing;

public sealed class HnswBehaviourTests
{
    [Fact]
    public void EmptyAndSingleNodeIndexes_AnswerSearches()
    {
        using var index = new HnswIndex(3, DistanceMetric.Euclidean);
        Assert.Empty(index.Search([1, 2, 3], 5));
        index.ValidateInvariants();
        index.Add(42, [1, 2, 3]);
        Assert.Equal([new SearchHit(42, 0f)], index.Search([1, 2, 3], 5));
        Assert.Equal(42, index.EntryPoint);
        index.ValidateInvariants();
    }

    [Fact]
    public void SmallIndex_KLargerThanCount_ReturnsEveryLiveVectorSorted()
    {
        var random = new Random(3);
        using var index = new HnswIndex(8, DistanceMetric.Euclidean, new HnswParameters { AutoCompact = false });
        var model = new Dictionary<int, float[]>();
        for (int id = 0; id < 40; id++)
        {
            model[id] = Gaussian(random, 8);
            index.Add(id, model[id]);
        }

        for (int id = 0; id < 40; id += 3)
        {
            index.Remove(id);
            model.Remove(id);
        }

        float[] query = Gaussian(random, 8);
        FlatIndexTests.AssertMatchesReference(DistanceMetric.Euclidean, model, query, 100, null, index.Search(query, 100), "k > count");
        index.ValidateInvariants();
    }

    [Fact]
    public void RemovedIds_AreNeverReturned_EvenBeforeCompaction()
    {
        var random = new Random(5);
        using var index = new HnswIndex(16, DistanceMetric.Cosine, new HnswParameters { AutoCompact = false });
        float[][] data = Enumerable.Range(0, 2_000).Select(_ => Gaussian(random, 16)).ToArray();
        for (int id = 0; id < data.Length; id++)
        {
            index.Add(id, data[id]);
        }

        var removed = new HashSet<int>();
        for (int id = 0; id < data.Length; id += 2)
        {
            index.Remove(id);
            removed.Add(id);
        }

        Assert.Equal(1_000, index.DeletedCount);
        foreach (float[] query in data.Take(200))
        {
            IReadOnlyList<SearchHit> hits = index.Search(query, 10);
            Assert.Equal(10, hits.Count);
            Assert.All(hits, h => Assert.DoesNotContain(h.Id, removed));
        }

        index.ValidateInvariants();
        Assert.Equal(1_000, index.Compact());
        Assert.Equal(0, index.DeletedCount);
        Assert.Equal(removed.Order(), index.TakeReleasedIds().Order());
        index.ValidateInvariants();
        for (int id = 1; id < data.Length; id += 2)
        {
            Assert.Equal(id, index.Search(data[id], 1)[0].Id);
        }
    }

    [Fact]
    public void DeletingTheEntryPointAndUpperLayers_KeepsEveryLiveVectorFindable()
    {
        var random = new Random(11);
        using var index = new HnswIndex(12, DistanceMetric.Euclidean, new HnswParameters { M = 6, AutoCompact = false });
        float[][] data = Enumerable.Range(0, 1_500).Select(_ => Gaussian(random, 12)).ToArray();
        for (int id = 0; id < data.Length; id++)
        {
            index.Add(id, data[id]);
        }

        Assert.True(index.MaxLevel >= 2);
        var live = Enumerable.Range(0, data.Length).ToHashSet();
        double baseline = live.Count(id => index.Search(data[id], 1, new SearchOptions { Ef = 32 })[0].Id == id) / (double)live.Count;
        for (int round = 0; round < 3; round++)
        {
            // The entry point and every node above layer 0 go, plus a random fifth of the rest.
            int entry = index.EntryPoint;
            index.Remove(entry);
            live.Remove(entry);
            foreach (int id in live.Where(id => random.Next(5) == 0).ToList())
            {
                index.Remove(id);
                live.Remove(id);
            }

            index.Compact();
            index.ValidateInvariants();
            Assert.NotEqual(entry, index.EntryPoint);
            Assert.Equal(live.Count, index.Count);
            int found = live.Count(id => index.Search(data[id], 1, new SearchOptions { Ef = 32 })[0].Id == id);
            Assert.True(
                found >= live.Count * (baseline - 0.01),
                $"round {round}: {found} of {live.Count} found by their own vector; {baseline:P1} before deletes");
        }
    }

    [Fact]
    public void RemovingEverything_EmptiesTheGraph_AndItCanBeRefilled()
    {
        using var index = new HnswIndex(4, DistanceMetric.DotProduct);
        var random = new Random(8);
        for (int id = 0; id < 300; id++)
        {
            index.Add(id, Gaussian(random, 4));
        }

        for (int id = 0; id < 300; id++)
        {
            index.Remove(id);
        }

        index.Compact();
        Assert.Equal(0, index.Count);
        Assert.Equal(-1, index.EntryPoint);
        Assert.Empty(index.Search([1, 0, 0, 0], 3));
        Assert.Equal(300, index.TakeReleasedIds().Distinct().Count());
        index.ValidateInvariants();
        index.Add(299, [1, 0, 0, 0]);
        index.Add(0, [2, 0, 0, 0]);
        Assert.Equal([0, 299], index.Search([1, 0, 0, 0], 3).Select(h => h.Id));
        index.ValidateInvariants();
    }

    [Fact]
    public void SameSeedAndOperations_BuildTheSameGraph()
    {
        static IReadOnlyList<SearchHit>[] Run()
        {
            var random = new Random(99);
            using var index = new HnswIndex(16, DistanceMetric.Euclidean, new HnswParameters { Seed = 7, M = 6, EfConstruction = 40 });
            for (int id = 0; id < 1_500; id++)
            {
                index.Add(id, Gaussian(random, 16));
                if (id % 4 == 3)
                {
                    index.Remove(id - 2);
                }
            }

            return Enumerable.Range(0, 30).Select(_ => index.Search(Gaussian(random, 16), 5, new SearchOptions { Ef = 8 })).ToArray();
        }

        IReadOnlyList<SearchHit>[] first = Run();
        IReadOnlyList<SearchHit>[] second = Run();
        Assert.Equal(first.Length, second.Length);
        for (int i = 0; i < first.Length; i++)
        {
            Assert.Equal(first[i], second[i]);
        }
    }

    [Theory]
    [InlineData(DistanceMetric.Cosine, false, 0.95)]
    [InlineData(DistanceMetric.DotProduct, false, 0.9)]
    [InlineData(DistanceMetric.Euclidean, true, 0.95)]
    public void EveryMetricAndPrunedConnectionMode_ReachesHighRecall(DistanceMetric metric, bool keepPruned, double minimum)
    {
        var random = new Random(2024 + (int)metric);
        float[][] centres = Centres(random, 20, 48);
        float[][] data = Clustered(random, centres, 4_000, 0.6f);
        using var hnsw = new HnswIndex(48, metric, new HnswParameters { KeepPrunedConnections = keepPruned });
        using var flat = new FlatIndex(48, metric);
        for (int id = 0; id < data.Length; id++)
        {
            hnsw.Add(id, data[id]);
            flat.Add(id, data[id]);
        }

        hnsw.ValidateInvariants();
        double total = 0;
        for (int q = 0; q < 100; q++)
        {
            float[] query = NearCentre(random, centres, 0.6f);
            total += Recall(flat.Search(query, 10), hnsw.Search(query, 10));
        }

        Assert.True(total / 100 >= minimum, $"{metric}: recall@10 {total / 100:F4}");
        Assert.Equal(0, hnsw.ExactFallbackCount);
    }

    [Fact]
    public void LargerEf_DoesNotLowerRecall_AndSmallEfStillReturnsK()
    {
        var random = new Random(4);
        float[][] data = Enumerable.Range(0, 3_000).Select(_ => Gaussian(random, 32)).ToArray();
        using var hnsw = new HnswIndex(32, DistanceMetric.Euclidean, new HnswParameters { M = 8, EfConstruction = 64 });
        using var flat = new FlatIndex(32, DistanceMetric.Euclidean);
        for (int id = 0; id < data.Length; id++)
        {
            hnsw.Add(id, data[id]);
            flat.Add(id, data[id]);
        }

        float[][] queries = Enumerable.Range(0, 100).Select(_ => Gaussian(random, 32)).ToArray();
        double Mean(int ef) => queries.Average(q =>
        {
            IReadOnlyList<SearchHit> hits = hnsw.Search(q, 10, new SearchOptions { Ef = ef });
            Assert.Equal(10, hits.Count);
            return Recall(flat.Search(q, 10), hits);
        });

        double low = Mean(1), high = Mean(400);
        Assert.True(high >= low, $"ef 400 recall {high:F4} < ef 1 recall {low:F4}");
        Assert.True(high >= 0.98, $"ef 400 recall {high:F4}");
    }

    [Fact]
    public void VectorArena_SpansChunksAndSizesThemByDimension()
    {
        var arena = new VectorArena(3);
        Assert.Equal(1024, arena.VectorsPerChunk);
        arena.EnsureSlot(5_000);
        arena.Get(5_000)[1] = 7f;
        arena.EnsureSlot(0);
        arena.EnsureSlot(9_000);
        Assert.Equal(7f, arena.Get(5_000)[1]);
        Assert.Equal(3 * 1024 * sizeof(float) * 3, arena.AllocatedBytes);
        Assert.Equal(7f, arena.Chunk(5_000 / 1024)[((5_000 % 1024) * 3) + 1]);
        Assert.True(arena.Chunk(1).IsEmpty);
        Assert.Equal(64, new VectorArena(4096).VectorsPerChunk);
        Assert.Equal(4, new VectorArena(65_536).VectorsPerChunk);
    }

    [Fact]
    public void CandidateHeaps_OrderLikeASort()
    {
        var random = new Random(6);
        var min = new MinCandidateHeap();
        var max = new MaxCandidateHeap();
        for (int round = 0; round < 20; round++)
        {
            min.Clear();
            max.Clear();
            Candidate[] items = Enumerable.Range(0, random.Next(1, 500)).Select(i => new Candidate((float)random.NextDouble(), i)).ToArray();
            foreach (Candidate c in items)
            {
                min.Push(c);
                max.PushBounded(c, 10);
            }

            float[] sorted = items.Select(c => c.Distance).Order().ToArray();
            Assert.Equal(sorted, Enumerable.Range(0, items.Length).Select(_ => min.Pop().Distance));
            var best = new Candidate[max.Count];
            max.DrainAscending(best);
            Assert.Equal(sorted.Take(10), best.Select(c => c.Distance));
        }
    }

    [Fact]
    public void VisitedSet_ForgetsEverythingOnReset()
    {
        var set = new VisitedSet();
        set.Reset(10);
        Assert.True(set.TryVisit(3));
        Assert.False(set.TryVisit(3));
        set.Reset(10);
        Assert.True(set.TryVisit(3));
        set.Reset(1_000);
        Assert.True(set.TryVisit(999));
        Assert.True(set.TryVisit(3));
    }
}
