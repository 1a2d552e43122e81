using System.Diagnostics;
using OxiVec.Indexing;
using Xunit.Abstractions;
using static OxiVec.Tests.Indexing.IndexTestData;

namespace OxiVec.Tests.Indexing;

public sealed class HnswRecallTests(ITestOutputHelper output)
{
    private const int Dimension = 128;
    private const int K = 10;

    [Fact]
    public void ClusteredData_DefaultParameters_RecallStaysAbove95PercentThroughDeletesAndInserts()
    {
        var random = new Random(20_000);
        float[][] centres = Centres(random, 50, Dimension);
        float[][] data = Clustered(random, centres, 20_000, 0.5f);
        float[][] queries = Clustered(random, centres, 200, 0.5f);

        using var hnsw = new HnswIndex(Dimension, DistanceMetric.Euclidean);
        using var flat = new FlatIndex(Dimension, DistanceMetric.Euclidean);
        var build = Stopwatch.StartNew();
        for (int id = 0; id < data.Length; id++)
        {
            hnsw.Add(id, data[id]);
        }

        build.Stop();
        for (int id = 0; id < data.Length; id++)
        {
            flat.Add(id, data[id]);
        }

        hnsw.ValidateInvariants();
        double before = MeanRecall(hnsw, flat, queries, out double qps);
        output.WriteLine($"build 20,000 x 128: {build.Elapsed.TotalSeconds:F2} s; recall@10 {before:F4}; {qps:F0} queries/s single-threaded at ef 64; top level {hnsw.MaxLevel}");
        Assert.True(before >= 0.95, $"recall@10 before deletes was {before:F4}");
        Assert.Equal(0, hnsw.ExactFallbackCount);

        // Delete 30% at random (automatic compactions release slots), then insert 6,000: released ids first.
        var deleted = new HashSet<int>();
        var removal = Stopwatch.StartNew();
        foreach (int id in Enumerable.Range(0, data.Length).OrderBy(_ => random.Next()).Take(6_000))
        {
            hnsw.Remove(id);
            flat.Remove(id);
            deleted.Add(id);
        }

        removal.Stop();
        hnsw.ValidateInvariants();
        Assert.Equal(14_000, hnsw.Count);
        Assert.True(hnsw.CompactionCount >= 1, "deleting 30% should have triggered a compaction");
        AssertNoneReturned(hnsw, queries, deleted);

        var reusable = new Queue<int>(hnsw.TakeReleasedIds());
        flat.TakeReleasedIds();
        output.WriteLine($"6,000 removes: {removal.Elapsed.TotalSeconds:F2} s, {hnsw.CompactionCount} compactions, {reusable.Count} slots released, {hnsw.RelinkedCount} nodes relinked, {hnsw.DeletedCount} tombstones left");
        Assert.All(reusable, id => Assert.Contains(id, deleted));
        int nextFresh = data.Length;
        var insert = Stopwatch.StartNew();
        for (int i = 0; i < 6_000; i++)
        {
            int id = reusable.Count > 0 ? reusable.Dequeue() : nextFresh++;
            float[] vector = NearCentre(random, centres, 0.5f);
            hnsw.Add(id, vector);
            flat.Add(id, vector);
            deleted.Remove(id);
        }

        insert.Stop();
        hnsw.ValidateInvariants();
        Assert.Equal(20_000, hnsw.Count);
        double after = MeanRecall(hnsw, flat, queries, out _);
        output.WriteLine($"6,000 inserts: {insert.Elapsed.TotalSeconds:F2} s; recall@10 after deletes and inserts {after:F4}");
        Assert.True(after >= 0.95, $"recall@10 after deletes and inserts was {after:F4}");
        AssertNoneReturned(hnsw, queries, deleted);

        int released = hnsw.Compact();
        hnsw.ValidateInvariants();
        double compacted = MeanRecall(hnsw, flat, queries, out _);
        output.WriteLine($"final compaction released {released}; recall@10 {compacted:F4}");
        Assert.True(compacted >= 0.95, $"recall@10 after the final compaction was {compacted:F4}");
    }

    private static double MeanRecall(HnswIndex hnsw, FlatIndex flat, float[][] queries, out double queriesPerSecond)
    {
        var approximate = new IReadOnlyList<SearchHit>[queries.Length];
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < queries.Length; i++)
        {
            approximate[i] = hnsw.Search(queries[i], K);
        }

        clock.Stop();
        queriesPerSecond = queries.Length / clock.Elapsed.TotalSeconds;
        double total = 0;
        for (int i = 0; i < queries.Length; i++)
        {
            total += Recall(flat.Search(queries[i], K), approximate[i]);
        }

        return total / queries.Length;
    }

    private static void AssertNoneReturned(HnswIndex hnsw, float[][] queries, HashSet<int> deleted)
    {
        foreach (float[] query in queries)
        {
            foreach (SearchHit hit in hnsw.Search(query, K))
            {
                Assert.DoesNotContain(hit.Id, deleted);
            }

            foreach (SearchHit hit in hnsw.Search(query, K, new SearchOptions { Ef = 16 }))
            {
                Assert.DoesNotContain(hit.Id, deleted);
            }
        }
    }
}
