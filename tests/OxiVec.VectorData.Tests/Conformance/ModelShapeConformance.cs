using Microsoft.Extensions.VectorData;
using OxiVec.VectorData.Tests.Support;

namespace OxiVec.VectorData.Tests.Conformance;

/// <summary>Models without data, without a vector, and with several vectors (which OxiVec refuses at construction).</summary>
public abstract class ModelShapeConformance(BackendFixture fixture)
{
    protected BackendFixture Fixture { get; } = fixture;

    [Fact]
    public async Task NoDataModel_UpsertGetAndSearch()
    {
        var collection = Fixture.CreateStore().GetCollection<string, NoDataRecord>(Fixture.NewCollectionName("nodata"));
        await collection.EnsureCollectionExistsAsync();
        await collection.UpsertAsync([new NoDataRecord { Id = "x", Embedding = new float[] { 1, 0, 0 } }, new NoDataRecord { Id = "y", Embedding = new float[] { 0, 1, 0 } }]);

        var read = await collection.GetAsync("y", new RecordRetrievalOptions { IncludeVectors = true });
        var hit = Assert.Single(await collection.SearchAsync(new float[] { 0, 1, 0 }, top: 1).ToListAsync());

        Assert.Equal([0f, 1f, 0f], read!.Embedding.ToArray());
        Assert.Equal("y", hit.Record.Id);
    }

    [Fact]
    public async Task NoVectorModel_UpsertGetFilterAndDelete()
    {
        var collection = Fixture.CreateStore().GetCollection<string, NoVectorRecord>(Fixture.NewCollectionName("novector"));
        await collection.EnsureCollectionExistsAsync();
        await collection.UpsertAsync([new NoVectorRecord { Id = "a", Text = "first", Number = 1 }, new NoVectorRecord { Id = "b", Text = "second", Number = 2 }]);

        var read = await collection.GetAsync("b");
        var filtered = await collection.GetAsync(r => r.Number < 2, top: 10).ToListAsync();
        await collection.DeleteAsync("a");

        Assert.Equal("second", read!.Text);
        Assert.Equal("a", Assert.Single(filtered).Id);
        Assert.Null(await collection.GetAsync("a"));
    }

    [Fact]
    public async Task NoVectorModel_SearchThrowsInvalidOperation()
    {
        var collection = Fixture.CreateStore().GetCollection<string, NoVectorRecord>(Fixture.NewCollectionName("novector"));
        await collection.EnsureCollectionExistsAsync();

        await Assert.ThrowsAsync<InvalidOperationException>(() => collection.SearchAsync(new float[] { 1 }, top: 1).ToListAsync().AsTask());
    }

    [Fact]
    public async Task MultiVectorModel_IsRefusedAtConstruction_AndNoCollectionIsCreated()
    {
        string name = Fixture.NewCollectionName("multivector");

        var error = Assert.Throws<NotSupportedException>(() => Fixture.CreateStore().GetCollection<string, TwoVectorRecord>(name));

        Assert.Contains("Multiple vector properties", error.Message, StringComparison.Ordinal);
        Assert.False(await Fixture.CreateStore().CollectionExistsAsync(name));
    }

    [Fact]
    public void MultiVectorDefinition_IsRefusedAtConstruction()
    {
        var definition = new VectorStoreCollectionDefinition
        {
            Properties =
            [
                new VectorStoreKeyProperty("Key", typeof(string)),
                new VectorStoreVectorProperty("A", typeof(ReadOnlyMemory<float>), 2),
                new VectorStoreVectorProperty("B", typeof(ReadOnlyMemory<float>), 2),
            ],
        };

        Assert.Throws<NotSupportedException>(() => Fixture.CreateStore().GetDynamicCollection(Fixture.NewCollectionName("multivector"), definition));
    }
}
