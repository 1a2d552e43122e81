using Microsoft.Extensions.VectorData;
using OxiVec.VectorData.Tests.Support;

namespace OxiVec.VectorData.Tests.Conformance;

/// <summary>Flat and HNSW map to OxiVec's indexes and find the nearest records; other index kinds are refused at construction.</summary>
public abstract class IndexKindConformance(BackendFixture fixture)
{
    protected BackendFixture Fixture { get; } = fixture;

    [Theory]
    [InlineData(IndexKind.Flat, Storage.IndexKind.Flat)]
    [InlineData(IndexKind.Hnsw, Storage.IndexKind.Hnsw)]
    [InlineData(null, Storage.IndexKind.Hnsw)]
    public async Task IndexKind_CreatesTheOxiVecIndex_AndFindsTheNearest(string? indexKind, Storage.IndexKind expected)
    {
        string name = Fixture.NewCollectionName("index");
        var collection = Fixture.CreateStore().GetCollection<string, NativeVectorRecord>(name, Definitions.Vector(DistanceFunction.EuclideanDistance, indexKind));
        await collection.EnsureCollectionExistsAsync();
        await collection.UpsertAsync(Enumerable.Range(0, 60).Select(i => new NativeVectorRecord { Id = "r" + i, Embedding = new float[] { i, i % 7, 1 } }));

        var results = await collection.SearchAsync(new float[] { 30.2f, 2, 1 }, top: 3).ToListAsync();

        Assert.Equal(expected, (await Fixture.Backend.GetCollectionAsync(name))!.Index);
        Assert.Equal(["r30", "r31", "r29"], results.Select(r => r.Record.Id)); // 30: (2, 2) off by 0.2; 31: (3, 2) off 0.8 and 1; 29: (1, 2) off 1.2 and 1
    }

    [Theory]
    [InlineData(IndexKind.DiskAnn)]
    [InlineData(IndexKind.IvfFlat)]
    [InlineData(IndexKind.QuantizedFlat)]
    [InlineData(IndexKind.Dynamic)]
    public void UnsupportedIndexKind_IsRefusedAtConstruction_NamingIt(string indexKind)
    {
        var error = Assert.Throws<NotSupportedException>(() =>
            Fixture.CreateStore().GetCollection<string, NativeVectorRecord>(Fixture.NewCollectionName("index"), Definitions.Vector(DistanceFunction.CosineSimilarity, indexKind)));

        Assert.Contains(indexKind, error.Message, StringComparison.Ordinal);
    }
}
