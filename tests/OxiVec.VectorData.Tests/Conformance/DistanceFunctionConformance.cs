using Microsoft.Extensions.VectorData;
using OxiVec.VectorData.Tests.Support;

namespace OxiVec.VectorData.Tests.Conformance;

/// <summary>Each supported distance function orders and scores results in the abstractions' convention; others are refused at construction.</summary>
public abstract class DistanceFunctionConformance(BackendFixture fixture)
{
    protected BackendFixture Fixture { get; } = fixture;

    private async Task<OxiVecCollection<string, NativeVectorRecord>> TwoRecordsAsync(string distanceFunction)
    {
        var collection = Fixture.CreateStore().GetCollection<string, NativeVectorRecord>(Fixture.NewCollectionName("distance"), Definitions.Vector(distanceFunction));
        await collection.EnsureCollectionExistsAsync();
        await collection.UpsertAsync(
        [
            new NativeVectorRecord { Id = "unit", Embedding = new float[] { 1, 0, 0 } },
            new NativeVectorRecord { Id = "long", Embedding = new float[] { 2, 2, 0 } },
        ]);
        return collection;
    }

    // Query [1, 0, 0]: to "unit" [1, 0, 0] and "long" [2, 2, 0]: cosine 1 and 0.7071, dot 1 and 2, Euclidean 0 and √5.
    [Theory]
    [InlineData(DistanceFunction.CosineSimilarity, "unit", 1.0, 0.70710678)]
    [InlineData(DistanceFunction.CosineDistance, "unit", 0.0, 0.29289322)]
    [InlineData(DistanceFunction.DotProductSimilarity, "long", 2.0, 1.0)]
    [InlineData(DistanceFunction.NegativeDotProductSimilarity, "long", -2.0, -1.0)]
    [InlineData(DistanceFunction.EuclideanDistance, "unit", 0.0, 2.23606798)]
    [InlineData(DistanceFunction.EuclideanSquaredDistance, "unit", 0.0, 5.0)]
    public async Task Search_OrdersAndScoresByTheDistanceFunction(string distanceFunction, string closest, double firstScore, double secondScore)
    {
        var collection = await TwoRecordsAsync(distanceFunction);

        var results = await collection.SearchAsync(new float[] { 1, 0, 0 }, top: 2).ToListAsync();

        Assert.Equal(closest, results[0].Record.Id);
        Assert.Equal(firstScore, results[0].Score!.Value, 4);
        Assert.Equal(secondScore, results[1].Score!.Value, 4);
    }

    [Theory]
    [InlineData(DistanceFunction.CosineSimilarity, 0.9, "unit")] // similarities keep scores at least the threshold
    [InlineData(DistanceFunction.DotProductSimilarity, 1.5, "long")]
    [InlineData(DistanceFunction.CosineDistance, 0.1, "unit")] // distances keep scores at most the threshold
    [InlineData(DistanceFunction.EuclideanDistance, 1.0, "unit")]
    [InlineData(DistanceFunction.EuclideanSquaredDistance, 4.0, "unit")]
    [InlineData(DistanceFunction.NegativeDotProductSimilarity, -1.5, "long")]
    public async Task Search_ScoreThreshold_FollowsTheFunctionsDirection(string distanceFunction, double threshold, string kept)
    {
        var collection = await TwoRecordsAsync(distanceFunction);

        var results = await collection.SearchAsync(new float[] { 1, 0, 0 }, top: 2, new() { ScoreThreshold = threshold }).ToListAsync();

        Assert.Equal(kept, Assert.Single(results).Record.Id);
    }

    [Fact]
    public async Task DefaultDistanceFunction_IsCosineSimilarity()
    {
        var collection = Fixture.CreateStore().GetCollection<string, NativeVectorRecord>(Fixture.NewCollectionName("distance"), Definitions.Vector(null));
        await collection.EnsureCollectionExistsAsync();
        await collection.UpsertAsync(new NativeVectorRecord { Id = "a", Embedding = new float[] { 2, 0, 0 } });

        var hit = Assert.Single(await collection.SearchAsync(new float[] { 1, 1, 0 }, top: 1).ToListAsync());

        Assert.Equal(Math.Sqrt(0.5), hit.Score!.Value, 4);
    }

    [Theory]
    [InlineData(DistanceFunction.ManhattanDistance)]
    [InlineData(DistanceFunction.HammingDistance)]
    [InlineData("NoSuchDistance")]
    public async Task UnsupportedDistanceFunction_IsRefusedAtConstruction_NamingIt(string distanceFunction)
    {
        string name = Fixture.NewCollectionName("distance");

        var error = Assert.Throws<NotSupportedException>(() =>
            Fixture.CreateStore().GetCollection<string, NativeVectorRecord>(name, Definitions.Vector(distanceFunction)));

        Assert.Contains(distanceFunction, error.Message, StringComparison.Ordinal);
        Assert.False(await Fixture.CreateStore().CollectionExistsAsync(name));
    }
}
