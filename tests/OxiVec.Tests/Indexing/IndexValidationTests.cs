using OxiVec.Indexing;

namespace OxiVec.Tests.Indexing;

public sealed class IndexValidationTests
{
    public static TheoryData<string> Kinds => new() { "flat", "hnsw" };

    private static IVectorIndex Create(string kind, int dimension = 4, DistanceMetric metric = DistanceMetric.Euclidean) =>
        kind == "flat" ? new FlatIndex(dimension, metric) : new HnswIndex(dimension, metric, new HnswParameters { AutoCompact = false });

    [Theory]
    [MemberData(nameof(Kinds))]
    public void WrongDimension_IsRejectedNamingTheArgumentAndBothDimensions(string kind)
    {
        using IVectorIndex index = Create(kind);
        var add = Assert.Throws<ArgumentException>(() => index.Add(0, [1, 2, 3]));
        Assert.Equal("vector", add.ParamName);
        Assert.Contains("3 dimensions", add.Message, StringComparison.Ordinal);
        Assert.Contains("has 4", add.Message, StringComparison.Ordinal);

        index.Add(0, [1, 2, 3, 4]);
        var search = Assert.Throws<ArgumentException>(() => index.Search([1, 2, 3, 4, 5], 1));
        Assert.Equal("query", search.ParamName);
        Assert.Contains("5 dimensions", search.Message, StringComparison.Ordinal);
        Assert.Contains("has 4", search.Message, StringComparison.Ordinal);
        Assert.Equal(1, index.Count);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void NaNOrInfinity_IsRejectedAndNothingIsAdded(string kind)
    {
        using IVectorIndex index = Create(kind);
        foreach (float bad in new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity })
        {
            var e = Assert.Throws<ArgumentException>(() => index.Add(7, [0, 1, bad, 2]));
            Assert.Equal("vector", e.ParamName);
            Assert.Contains("index 2", e.Message, StringComparison.Ordinal);
            Assert.Equal("query", Assert.Throws<ArgumentException>(() => index.Search([bad, 0, 0, 0], 1)).ParamName);
        }

        Assert.Equal(0, index.Count);
        Assert.False(index.Contains(7));
        index.Add(7, [float.MaxValue, float.MaxValue, 0, 0]);
        Assert.True(index.Contains(7));
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void CosineZeroVector_IsRejected(string kind)
    {
        using IVectorIndex index = Create(kind, metric: DistanceMetric.Cosine);
        var e = Assert.Throws<ArgumentException>(() => index.Add(0, [0, 0, 0, 0]));
        Assert.Contains("normalised", e.Message, StringComparison.Ordinal);
        Assert.Equal("query", Assert.Throws<ArgumentException>(() => index.Search([0, 0, 0, 0], 1)).ParamName);
        Assert.Equal(0, index.Count);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void KBelowOneOrBadIds_AreRejected(string kind)
    {
        using IVectorIndex index = Create(kind);
        index.Add(0, [1, 2, 3, 4]);
        Assert.Equal("k", Assert.Throws<ArgumentOutOfRangeException>(() => index.Search([1, 2, 3, 4], 0)).ParamName);
        Assert.Equal("k", Assert.Throws<ArgumentOutOfRangeException>(() => index.Search([1, 2, 3, 4], -3)).ParamName);
        Assert.Equal("id", Assert.Throws<ArgumentOutOfRangeException>(() => index.Add(-1, [1, 2, 3, 4])).ParamName);
        Assert.False(index.Contains(-1));
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void DuplicateAdd_ThrowsAndKeepsTheOriginalVector(string kind)
    {
        using IVectorIndex index = Create(kind);
        index.Add(3, [1, 2, 3, 4]);
        var e = Assert.Throws<InvalidOperationException>(() => index.Add(3, [9, 9, 9, 9]));
        Assert.Contains("Id 3", e.Message, StringComparison.Ordinal);
        SearchHit hit = Assert.Single(index.Search([1, 2, 3, 4], 5));
        Assert.Equal(new SearchHit(3, 0f), hit);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void RemoveOfUnknownOrRemovedId_ThrowsKeyNotFound(string kind)
    {
        using IVectorIndex index = Create(kind);
        index.Add(1, [1, 2, 3, 4]);
        Assert.Contains("Id 5", Assert.Throws<KeyNotFoundException>(() => index.Remove(5)).Message, StringComparison.Ordinal);
        Assert.Throws<KeyNotFoundException>(() => index.Remove(-1));
        index.Remove(1);
        Assert.Throws<KeyNotFoundException>(() => index.Remove(1));
        Assert.Equal(0, index.Count);
    }

    [Fact]
    public void HnswAddOfRemovedButUnreleasedId_ThrowsUntilCompacted()
    {
        using var index = new HnswIndex(2, DistanceMetric.Euclidean, new HnswParameters { AutoCompact = false });
        index.Add(0, [0, 0]);
        index.Add(1, [1, 1]);
        index.Remove(0);
        var e = Assert.Throws<InvalidOperationException>(() => index.Add(0, [2, 2]));
        Assert.Contains("not released", e.Message, StringComparison.Ordinal);
        Assert.Empty(index.TakeReleasedIds());
        Assert.Equal(1, index.Compact());
        Assert.Equal([0], index.TakeReleasedIds());
        index.Add(0, [2, 2]);
        Assert.Equal([0, 1], index.Search([2, 2], 2).Select(h => h.Id));
    }

    [Fact]
    public void BadParameters_AreRejectedNamingTheParameter()
    {
        Assert.Equal("M", Assert.Throws<ArgumentOutOfRangeException>(() => new HnswParameters { M = 1 }).ParamName);
        Assert.Equal("M", Assert.Throws<ArgumentOutOfRangeException>(() => new HnswParameters { M = 10_000 }).ParamName);
        Assert.Equal("EfConstruction", Assert.Throws<ArgumentOutOfRangeException>(() => new HnswParameters { EfConstruction = 0 }).ParamName);
        Assert.Equal("EfSearch", Assert.Throws<ArgumentOutOfRangeException>(() => new HnswParameters { EfSearch = 0 }).ParamName);
        foreach (double threshold in new[] { 0, -0.5, 1.5, double.NaN })
        {
            var e = Assert.Throws<ArgumentOutOfRangeException>(() => new HnswParameters { CompactionThreshold = threshold });
            Assert.Equal("CompactionThreshold", e.ParamName);
        }

        Assert.Equal("Ef", Assert.Throws<ArgumentOutOfRangeException>(() => new SearchOptions { Ef = 0 }).ParamName);
        Assert.Equal("dimension", Assert.Throws<ArgumentOutOfRangeException>(() => new HnswIndex(0, DistanceMetric.Cosine)).ParamName);
        Assert.Equal("dimension", Assert.Throws<ArgumentOutOfRangeException>(() => new FlatIndex(100_000, DistanceMetric.Cosine)).ParamName);
        Assert.Equal("metric", Assert.Throws<ArgumentOutOfRangeException>(() => new FlatIndex(3, (DistanceMetric)42)).ParamName);

        var defaults = new HnswParameters();
        Assert.Equal((16, 32, 200, 64), (defaults.M, defaults.MaxM0, defaults.EfConstruction, defaults.EfSearch));
        Assert.Equal(48, new HnswParameters { M = 24 }.MaxM0);
    }
}
