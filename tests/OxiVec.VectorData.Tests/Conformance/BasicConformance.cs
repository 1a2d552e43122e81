using Microsoft.Extensions.VectorData;
using OxiVec.VectorData.Tests.Support;

namespace OxiVec.VectorData.Tests.Conformance;

/// <summary>Upsert, get, delete and search of a plain record type.</summary>
public abstract class BasicConformance(BackendFixture fixture)
{
    protected BackendFixture Fixture { get; } = fixture;

    private async Task<OxiVecCollection<string, Hotel>> NewCollectionAsync()
    {
        OxiVecCollection<string, Hotel> collection = Fixture.CreateStore().GetCollection<string, Hotel>(Fixture.NewCollectionName("hotels"));
        await collection.EnsureCollectionExistsAsync();
        return collection;
    }

    private static Hotel Hotel(string id, int rating, params float[] vector) =>
        new() { Id = id, Name = "Hotel " + id, Rating = rating, Parking = rating % 2 == 0, Tags = ["t" + rating], Embedding = vector };

    [Fact]
    public async Task Upsert_ThenGet_ReturnsTheSameRecord()
    {
        var collection = await NewCollectionAsync();
        await collection.UpsertAsync(Hotel("a", 4, 1, 0, 0));

        Hotel? read = await collection.GetAsync("a", new RecordRetrievalOptions { IncludeVectors = true });

        Assert.NotNull(read);
        Assert.Equal("Hotel a", read.Name);
        Assert.Equal(4, read.Rating);
        Assert.True(read.Parking);
        Assert.Equal(["t4"], read.Tags);
        Assert.Equal([1f, 0f, 0f], read.Embedding.ToArray());
    }

    [Fact]
    public async Task Get_WithoutIncludeVectors_LeavesTheVectorEmpty()
    {
        var collection = await NewCollectionAsync();
        await collection.UpsertAsync(Hotel("a", 4, 1, 0, 0));

        Hotel? read = await collection.GetAsync("a");

        Assert.NotNull(read);
        Assert.True(read.Embedding.IsEmpty);
    }

    [Fact]
    public async Task Get_MissingKey_ReturnsNull()
    {
        var collection = await NewCollectionAsync();

        Assert.Null(await collection.GetAsync("nothing"));
    }

    [Fact]
    public async Task Search_ReturnsTheClosestFirst_WithCosineScores()
    {
        var collection = await NewCollectionAsync();
        await collection.UpsertAsync([Hotel("x", 1, 1, 0, 0), Hotel("y", 2, 0, 1, 0), Hotel("xy", 3, 1, 1, 0)]);

        var results = await collection.SearchAsync(new ReadOnlyMemory<float>([1, 0, 0]), top: 2).ToListAsync();

        Assert.Equal(["x", "xy"], results.Select(r => r.Record.Id));
        Assert.Equal(1.0, results[0].Score!.Value, 5);
        Assert.Equal(Math.Sqrt(0.5), results[1].Score!.Value, 5);
    }
}
