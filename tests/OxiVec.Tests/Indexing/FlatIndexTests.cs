using OxiVec.Indexing;
using static OxiVec.Tests.Indexing.IndexTestData;

namespace OxiVec.Tests.Indexing;

public sealed class FlatIndexTests
{
    [Theory]
    [InlineData(DistanceMetric.Cosine)]
    [InlineData(DistanceMetric.DotProduct)]
    [InlineData(DistanceMetric.Euclidean)]
    public void RandomDataAddsRemovesAndFilters_SearchEqualsNaiveReference(DistanceMetric metric)
    {
        for (int seed = 0; seed < 150; seed++)
        {
            var random = new Random((seed * 31) + (int)metric);
            int dimension = random.Next(1, 41);
            int count = random.Next(0, 400);
            using var index = new FlatIndex(dimension, metric);
            var model = new Dictionary<int, float[]>();
            for (int id = 0; id < count; id++)
            {
                float[] vector = Gaussian(random, dimension, (float)Math.Exp(random.NextDouble() * 4 - 2));
                index.Add(id, vector);
                model[id] = vector;
            }

            foreach (int id in model.Keys.Where(_ => random.Next(4) == 0).ToList())
            {
                index.Remove(id);
                model.Remove(id);
            }

            Assert.Equal(model.Count, index.Count);
            for (int q = 0; q < 5; q++)
            {
                float[] query = Gaussian(random, dimension);
                int k = random.Next(1, count + 5);
                int modulus = random.Next(1, 5);
                Func<int, bool>? filter = random.Next(3) == 0 ? id => id % modulus == 0 : null;
                IReadOnlyList<SearchHit> hits = index.Search(query, k, new SearchOptions { Filter = filter });
                AssertMatchesReference(metric, model, query, k, filter, hits, $"seed {seed}, query {q}");
            }
        }
    }

    [Fact]
    public void EveryMetric_DistanceAndScore_AreTheDocumentedFormulas()
    {
        float[] a = [1, 2, 2];
        float[] b = [2, 0, 1];
        foreach (DistanceMetric metric in Enum.GetValues<DistanceMetric>())
        {
            using var index = new FlatIndex(3, metric);
            index.Add(0, b);
            SearchHit hit = Assert.Single(index.Search(a, 1));
            float score = metric.ToScore(hit.Distance);
            switch (metric)
            {
                case DistanceMetric.Cosine:
                    Assert.Equal(4f / (3f * MathF.Sqrt(5f)), score, 1e-5f);
                    Assert.True(metric.HigherScoreIsBetter());
                    break;
                case DistanceMetric.DotProduct:
                    Assert.Equal(-4f, hit.Distance, 1e-5f);
                    Assert.Equal(4f, score, 1e-5f);
                    Assert.True(metric.HigherScoreIsBetter());
                    break;
                default:
                    Assert.Equal(6f, hit.Distance, 1e-5f);
                    Assert.Equal(MathF.Sqrt(6f), score, 1e-5f);
                    Assert.False(metric.HigherScoreIsBetter());
                    break;
            }
        }
    }

    [Fact]
    public void RemovedSlot_IsReleasedAtOnceAndCanBeAddedAgain()
    {
        using var index = new FlatIndex(2, DistanceMetric.Euclidean);
        index.Add(0, [0, 0]);
        index.Add(1, [1, 1]);
        index.Remove(0);
        Assert.False(index.Contains(0));
        Assert.Equal([0], index.TakeReleasedIds());
        Assert.Empty(index.TakeReleasedIds());
        index.Add(0, [5, 5]);
        Assert.Equal([0, 1], index.Search([5, 5], 5).Select(h => h.Id));
        Assert.Equal(0, index.Compact());
    }

    [Fact]
    public void SparseAndLargeIds_SpanSeveralChunks()
    {
        using var index = new FlatIndex(3, DistanceMetric.Euclidean);
        int[] ids = [0, 1023, 1024, 5000, 77];
        foreach (int id in ids)
        {
            index.Add(id, [id, 0, 0]);
        }

        foreach (int id in ids)
        {
            SearchHit hit = index.Search([id, 0, 0], 1)[0];
            Assert.Equal(id, hit.Id);
            Assert.Equal(0f, hit.Distance);
        }
    }

    /// <summary>
    /// Checks hits against a double-precision brute force: the right count, ascending, distances equal position by
    /// position, and every id among the true best (ties at the boundary allowed).
    /// </summary>
    internal static void AssertMatchesReference(
        DistanceMetric metric,
        Dictionary<int, float[]> model,
        float[] query,
        int k,
        Func<int, bool>? filter,
        IReadOnlyList<SearchHit> hits,
        string context)
    {
        var reference = model
            .Where(p => filter is null || filter(p.Key))
            .Select(p => (Id: p.Key, Distance: NaiveDistance(metric, query, p.Value)))
            .OrderBy(r => r.Distance).ThenBy(r => r.Id)
            .Take(k)
            .ToList();
        Assert.True(reference.Count == hits.Count, $"{context}: {hits.Count} hits, expected {reference.Count}");
        Assert.Equal(hits.Count, hits.Select(h => h.Id).Distinct().Count());
        for (int i = 0; i < hits.Count; i++)
        {
            double tolerance = 1e-4 * Math.Max(1.0, Math.Abs(reference[i].Distance));
            Assert.True(
                Math.Abs(hits[i].Distance - reference[i].Distance) <= tolerance,
                $"{context}: hit {i} distance {hits[i].Distance}, reference {reference[i].Distance}");
            Assert.True(model.ContainsKey(hits[i].Id) && (filter is null || filter(hits[i].Id)), $"{context}: id {hits[i].Id} not eligible");
            double own = NaiveDistance(metric, query, model[hits[i].Id]);
            double last = reference[^1].Distance;
            Assert.True(own <= last + (1e-4 * Math.Max(1.0, Math.Abs(last))), $"{context}: id {hits[i].Id} is not among the best");
            if (i > 0)
            {
                Assert.True(hits[i - 1].Distance <= hits[i].Distance, $"{context}: hits not sorted");
            }
        }
    }

    internal static double NaiveDistance(DistanceMetric metric, float[] a, float[] b)
    {
        double dot = 0, normA = 0, normB = 0, squared = 0;
        for (int i = 0; i < a.Length; i++)
        {
            dot += (double)a[i] * b[i];
            normA += (double)a[i] * a[i];
            normB += (double)b[i] * b[i];
            squared += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
        }

        return metric switch
        {
            DistanceMetric.Cosine => 1 - (dot / Math.Sqrt(normA * normB)),
            DistanceMetric.DotProduct => -dot,
            _ => squared,
        };
    }
}
