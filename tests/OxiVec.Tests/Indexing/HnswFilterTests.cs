using OxiVec.Indexing;
using Xunit.Abstractions;
using static OxiVec.Tests.Indexing.IndexTestData;

namespace OxiVec.Tests.Indexing;

/// <summary>A 20,000 x 128 clustered HNSW index shared (read-only) by the filtered-search scenarios.</summary>
public sealed class ClusteredIndexFixture : IDisposable
{
    public ClusteredIndexFixture()
    {
        var random = new Random(777);
        Centres = IndexTestData.Centres(random, 50, 128);
        Data = Clustered(random, Centres, 20_000, 0.5f);
        Queries = Clustered(random, Centres, 200, 0.5f);
        Index = new HnswIndex(128, DistanceMetric.Euclidean);
        for (int id = 0; id < Data.Length; id++)
        {
            Index.Add(id, Data[id]);
        }
    }

    public float[][] Centres { get; }

    public float[][] Data { get; }

    public float[][] Queries { get; }

    public HnswIndex Index { get; }

    public void Dispose() => Index.Dispose();
}

public sealed class HnswFilterTests(ClusteredIndexFixture fixture, ITestOutputHelper output) : IClassFixture<ClusteredIndexFixture>
{
    private const int K = 10;

    // At 1-2 % selectivity the cost model answers with a filtered scan, whose recall is 1 by construction. So each
    // selective scenario checks both paths against a brute force computed here, not by the index: the default
    // search (every query must take the scan: the fallback count says so) and the graph walk alone, forced.

    [Fact]
    public void RandomOnePercentFilter_ScanAnswersEveryQuery_AndTheGraphWalkAloneHasHighRecall()
    {
        var random = new Random(1);
        bool[] allowed = new bool[fixture.Data.Length];
        foreach (int id in Enumerable.Range(0, allowed.Length).OrderBy(_ => random.Next()).Take(200))
        {
            allowed[id] = true;
        }

        AssertBothPaths(id => allowed[id], 200, "1% random filter");
    }

    [Fact]
    public void StridedOnePercentFilter_ScanAnswersEveryQuery_AndTheGraphWalkAloneHasHighRecall()
    {
        AssertBothPaths(id => id % 100 == 37, 200, "id % 100 filter");
    }

    [Fact]
    public void FilterMatchingOneClusterFarFromTheQueries_ScanAnswersEveryQuery_AndTheGraphWalkAloneHasHighRecall()
    {
        // The members of one cluster (about 2%): every query from another cluster must walk far to find them.
        float[] centre = fixture.Centres[0];
        bool[] inCluster = fixture.Data
            .Select(v => FlatIndexTests.NaiveDistance(DistanceMetric.Euclidean, v, centre) < 128 * 0.5 * 0.5 * 2)
            .ToArray();
        int members = inCluster.Count(b => b);
        Assert.InRange(members, 200, 800);
        AssertBothPaths(id => inCluster[id], members, $"one-cluster filter ({members} ids)");
    }

    [Fact]
    public void ThirtyPercentFilter_IsAnsweredByTheGraphAtHighRecall()
    {
        (double recall, long fallbacks) = FilteredRecall(id => (id * 2654435761u) % 10 < 3, 6_000, graphWalkOnly: false);
        output.WriteLine($"30% filter: recall@10 {recall:F4}, {fallbacks} of {fixture.Queries.Length} queries scanned");
        Assert.True(recall >= 0.9, $"recall {recall:F4}");
        Assert.True(fallbacks < fixture.Queries.Length / 10, $"{fallbacks} scans: the graph should answer a 30% filter");
    }

    [Fact]
    public void FilterMatchingSevenIds_WithKTen_ReturnsExactlyTheSeven()
    {
        int[] seven = [5, 1234, 4321, 9999, 12_000, 15_555, 19_999];
        var set = seven.ToHashSet();
        foreach (float[] query in fixture.Queries.Take(50))
        {
            IReadOnlyList<SearchHit> hits = fixture.Index.Search(query, K, new SearchOptions { Filter = set.Contains });
            Assert.Equal(seven.Order(), hits.Select(h => h.Id).Order());
            Assert.True(hits.Zip(hits.Skip(1)).All(p => p.First.Distance <= p.Second.Distance));
        }

        // Also when the beam is tiny and the sample finds none of them.
        IReadOnlyList<SearchHit> small = fixture.Index.Search(fixture.Queries[0], 3, new SearchOptions { Filter = set.Contains, Ef = 3 });
        Assert.Equal(3, small.Count);
        Assert.All(small, h => Assert.Contains(h.Id, set));
    }

    [Fact]
    public void FilterMatchingNothing_ReturnsNothing()
    {
        Assert.Empty(fixture.Index.Search(fixture.Queries[0], K, new SearchOptions { Filter = _ => false }));
    }

    [Fact]
    public void ExactOption_EqualsTheFilteredBruteForce()
    {
        Func<int, bool> filter = id => id % 3 == 0;
        var model = Enumerable.Range(0, fixture.Data.Length).ToDictionary(id => id, id => fixture.Data[id]);
        foreach (float[] query in fixture.Queries.Take(20))
        {
            IReadOnlyList<SearchHit> hits = fixture.Index.Search(query, K, new SearchOptions { Exact = true, Filter = filter });
            FlatIndexTests.AssertMatchesReference(DistanceMetric.Euclidean, model, query, K, filter, hits, "exact");
        }
    }

    private void AssertBothPaths(Func<int, bool> filter, int expectedMatches, string name)
    {
        (double scanRecall, long scans) = FilteredRecall(filter, expectedMatches, graphWalkOnly: false);
        (double walkRecall, long walkScans) = FilteredRecall(filter, expectedMatches, graphWalkOnly: true);
        output.WriteLine($"{name}: default search recall@10 {scanRecall:F4} ({scans} scans); graph walk alone recall@10 {walkRecall:F4}");
        Assert.Equal(fixture.Queries.Length, scans);
        Assert.Equal(1.0, scanRecall, 9);
        Assert.Equal(0, walkScans);
        Assert.True(walkRecall >= 0.9, $"graph walk recall {walkRecall:F4}");
    }

    /// <summary>
    /// Mean recall@K over the queries against a brute force over the fixture's vectors (not the index), and how
    /// many of the searches fell back to a scan.
    /// </summary>
    private (double Recall, long Fallbacks) FilteredRecall(Func<int, bool> filter, int expectedMatches, bool graphWalkOnly)
    {
        int[] matching = [.. Enumerable.Range(0, fixture.Data.Length).Where(filter)];
        Assert.InRange(matching.Length, expectedMatches * 8 / 10, expectedMatches * 12 / 10);
        long fallbacksBefore = fixture.Index.ExactFallbackCount;
        double total = 0;
        foreach (float[] query in fixture.Queries)
        {
            IReadOnlyList<SearchHit> hits = fixture.Index.Search(query, K, new SearchOptions { Filter = filter, GraphWalkOnly = graphWalkOnly });
            if (!graphWalkOnly)
            {
                Assert.Equal(Math.Min(K, matching.Length), hits.Count);
            }

            Assert.All(hits, h => Assert.True(filter(h.Id), $"id {h.Id} does not match the filter"));
            Assert.Equal(hits.Count, hits.Select(h => h.Id).Distinct().Count());
            HashSet<int> truth = [.. matching
                .OrderBy(id => FlatIndexTests.NaiveDistance(DistanceMetric.Euclidean, query, fixture.Data[id]))
                .Take(K)];
            total += hits.Count(h => truth.Contains(h.Id)) / (double)truth.Count;
        }

        return (total / fixture.Queries.Length, fixture.Index.ExactFallbackCount - fallbacksBefore);
    }
}
