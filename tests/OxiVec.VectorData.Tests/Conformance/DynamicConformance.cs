using Microsoft.Extensions.VectorData;
using OxiVec.VectorData.Tests.Support;

namespace OxiVec.VectorData.Tests.Conformance;

/// <summary>Dynamic collections: records as dictionaries, described by a definition.</summary>
public abstract class DynamicConformance(BackendFixture fixture)
{
    protected BackendFixture Fixture { get; } = fixture;

    private static VectorStoreCollectionDefinition Definition(Type keyType) => new()
    {
        Properties =
        [
            new VectorStoreKeyProperty("Key", keyType),
            new VectorStoreDataProperty("Name", typeof(string)),
            new VectorStoreDataProperty("Count", typeof(int)) { StorageName = "count" },
            new VectorStoreDataProperty("Tags", typeof(string[])),
            new VectorStoreVectorProperty("Vector", typeof(ReadOnlyMemory<float>), 2) { DistanceFunction = DistanceFunction.EuclideanDistance },
        ],
    };

    private static Dictionary<string, object?> Record(object key, string? name, int count, params float[] vector) => new()
    {
        ["Key"] = key,
        ["Name"] = name,
        ["Count"] = count,
        ["Tags"] = new[] { "t" + count },
        ["Vector"] = new ReadOnlyMemory<float>(vector),
    };

    private async Task<OxiVecDynamicCollection> SeededAsync(Type keyType, params Dictionary<string, object?>[] records)
    {
        var collection = Fixture.CreateStore().GetDynamicCollection(Fixture.NewCollectionName("dynamic"), Definition(keyType));
        await collection.EnsureCollectionExistsAsync();
        await collection.UpsertAsync(records);
        return collection;
    }

    [Fact]
    public async Task Upsert_ThenGet_RoundTripsEveryProperty()
    {
        var collection = await SeededAsync(typeof(string), Record("a", "alpha", 3, 1, 2));

        var read = await collection.GetAsync("a", new RecordRetrievalOptions { IncludeVectors = true });

        Assert.NotNull(read);
        Assert.Equal("a", read["Key"]);
        Assert.Equal("alpha", read["Name"]);
        Assert.Equal(3, read["Count"]);
        Assert.Equal(["t3"], (string[])read["Tags"]!);
        Assert.Equal([1f, 2f], ((ReadOnlyMemory<float>)read["Vector"]!).ToArray());
    }

    [Fact]
    public async Task Get_WithoutIncludeVectors_OmitsTheVector()
    {
        var collection = await SeededAsync(typeof(string), Record("a", "alpha", 3, 1, 2));

        var read = await collection.GetAsync("a");

        Assert.False(read!.ContainsKey("Vector"));
    }

    [Fact]
    public async Task NullDataValue_RoundTrips()
    {
        var collection = await SeededAsync(typeof(string), Record("a", null, 3, 1, 2));

        var read = await collection.GetAsync("a");

        Assert.True(read!.ContainsKey("Name"));
        Assert.Null(read["Name"]);
    }

    [Fact]
    public async Task IntKeys_GetSearchAndDelete()
    {
        var collection = await SeededAsync(typeof(int), Record(1, "one", 1, 0, 0), Record(2, "two", 2, 5, 5));

        var hit = Assert.Single(await collection.SearchAsync(new float[] { 4, 4 }, top: 1).ToListAsync());
        Assert.Equal(2, hit.Record["Key"]);

        await collection.DeleteAsync(2);
        Assert.Null(await collection.GetAsync(2));
        Assert.NotNull(await collection.GetAsync(1));
    }

    [Fact]
    public async Task Filter_ByIndexer_UsesStorageNames()
    {
        var collection = await SeededAsync(typeof(string), Record("a", "alpha", 1, 0, 0), Record("b", "beta", 2, 1, 1), Record("c", "gamma", 3, 2, 2));

        var byCount = await collection.GetAsync(r => (int)r["Count"]! >= 2, top: 10).ToListAsync();
        var byName = await collection.SearchAsync(new float[] { 0, 0 }, top: 10, new() { Filter = r => (string)r["Name"]! == "gamma" }).ToListAsync();

        Assert.Equal(["b", "c"], byCount.Select(r => (string)r["Key"]!).Order());
        Assert.Equal("c", Assert.Single(byName).Record["Key"]);
    }

    [Fact]
    public async Task Filter_ContainsOnAnArrayProperty()
    {
        var collection = await SeededAsync(typeof(string), Record("a", "alpha", 1, 0, 0), Record("b", "beta", 2, 1, 1));

        var read = await collection.GetAsync(r => ((string[])r["Tags"]!).Contains("t2"), top: 10).ToListAsync();

        Assert.Equal("b", Assert.Single(read)["Key"]);
    }

    [Fact]
    public async Task GetWithFilter_OrderedByAProperty()
    {
        var collection = await SeededAsync(typeof(string), Record("a", "alpha", 2, 0, 0), Record("b", "beta", 3, 1, 1), Record("c", "gamma", 1, 2, 2));

        var read = await collection.GetAsync(r => true, top: 3, new() { OrderBy = o => o.Descending(r => r["Count"]) }).ToListAsync();

        Assert.Equal(["b", "a", "c"], read.Select(r => (string)r["Key"]!));
    }

    [Fact]
    public void DynamicCollection_WithoutADefinition_IsRefused()
    {
        Assert.Throws<ArgumentException>(() => new OxiVecDynamicCollection(Fixture.Backend, Fixture.NewCollectionName("dynamic"), new OxiVecCollectionOptions()));
    }

    [Fact]
    public void GetCollection_OfDictionaries_PointsToTheDynamicCollection()
    {
        Assert.Throws<NotSupportedException>(() => Fixture.CreateStore().GetCollection<object, Dictionary<string, object?>>(Fixture.NewCollectionName("dynamic"), Definition(typeof(string))));
    }
}
