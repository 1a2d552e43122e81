using OxiVec.Indexing;
using static OxiVec.Tests.Indexing.IndexTestData;

namespace OxiVec.Tests.Indexing;

public sealed class HnswParallelBuildTests
{
    [Fact]
    public async Task GraphBuiltByTwoThreads_IsValid_AndReachesRecall95AgainstBruteForce()
    {
        const int Dimension = 32, Count = 4_000, Queries = 100;
        var random = new Random(41);
        float[][] centres = Centres(random, 20, Dimension);
        float[][] vectors = Clustered(random, centres, Count, 0.3f);
        using var index = new HnswIndex(Dimension, DistanceMetric.Euclidean, new HnswParameters { M = 12, EfConstruction = 100 });
        using var exact = new FlatIndex(Dimension, DistanceMetric.Euclidean);
        for (int id = 0; id < Count; id++)
        {
            exact.Add(id, vectors[id]);
        }

        using var start = new Barrier(2);
        await Task.WhenAll(Enumerable.Range(0, 2).Select(t => Task.Run(() =>
        {
            start.SignalAndWait();
            for (int id = t; id < Count; id += 2)
            {
                index.Add(id, vectors[id]);
            }
        })));

        Assert.Equal(Count, index.Count);
        index.ValidateInvariants();
        double recall = 0;
        for (int q = 0; q < Queries; q++)
        {
            float[] query = NearCentre(random, centres, 0.3f);
            recall += Recall(exact.Search(query, 10), index.Search(query, 10, new SearchOptions { GraphWalkOnly = true }));
        }

        Assert.True(recall / Queries >= 0.95, $"recall@10 {recall / Queries:F3}");
    }

    [Fact]
    public async Task ConcurrentAddsOfOneId_AddItOnce()
    {
        using var index = new HnswIndex(4, DistanceMetric.Euclidean);
        for (int round = 0; round < 200; round++)
        {
            int id = round;
            Task<bool>[] adds = Enumerable.Range(0, 2).Select(_ => Task.Run(() =>
            {
                try
                {
                    index.Add(id, [id, 1, 2, 3]);
                    return true;
                }
                catch (InvalidOperationException)
                {
                    return false;
                }
            })).ToArray();
            bool[] outcomes = await Task.WhenAll(adds);
            Assert.Equal(1, outcomes.Count(added => added));
        }

        Assert.Equal(200, index.Count);
        index.ValidateInvariants();
    }
}
