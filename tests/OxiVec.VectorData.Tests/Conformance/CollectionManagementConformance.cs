using Microsoft.Extensions.VectorData;
using OxiVec.VectorData.Tests.Support;

namespace OxiVec.VectorData.Tests.Conformance;

/// <summary>Creating, finding, listing and deleting collections, and the metadata of store and collection.</summary>
public abstract class CollectionManagementConformance(BackendFixture fixture)
{
    protected BackendFixture Fixture { get; } = fixture;

    private static Hotel Hotel(string id) => new() { Id = id, Name = id, Embedding = new float[] { 1, 0, 0 } };

    [Fact]
    public async Task EnsureCollectionExists_CreatesIt()
    {
        var collection = Fixture.CreateStore().GetCollection<string, Hotel>(Fixture.NewCollectionName());
        Assert.False(await collection.CollectionExistsAsync());

        await collection.EnsureCollectionExistsAsync();

        Assert.True(await collection.CollectionExistsAsync());
    }

    [Fact]
    public async Task EnsureCollectionExists_Twice_KeepsTheRecords()
    {
        var collection = Fixture.CreateStore().GetCollection<string, Hotel>(Fixture.NewCollectionName());
        await collection.EnsureCollectionExistsAsync();
        await collection.UpsertAsync(Hotel("a"));

        await collection.EnsureCollectionExistsAsync();

        Assert.NotNull(await collection.GetAsync("a"));
    }

    [Fact]
    public async Task EnsureCollectionExists_ExistingWithAnotherDimension_ThrowsAndChangesNothing()
    {
        string name = Fixture.NewCollectionName();
        var store = Fixture.CreateStore();
        var hotels = store.GetCollection<string, Hotel>(name);
        await hotels.EnsureCollectionExistsAsync();
        await hotels.UpsertAsync(Hotel("a"));

        var other = store.GetCollection<string, KeyedRecord<string>>(name); // 2 dimensions, Euclidean

        var error = await Assert.ThrowsAsync<VectorStoreException>(() => other.EnsureCollectionExistsAsync());
        Assert.Contains("dimension 3", error.Message, StringComparison.Ordinal);
        Assert.NotNull(await hotels.GetAsync("a"));
    }

    [Fact]
    public async Task EnsureCollectionDeleted_RemovesTheCollectionAndItsRecords()
    {
        var collection = Fixture.CreateStore().GetCollection<string, Hotel>(Fixture.NewCollectionName());
        await collection.EnsureCollectionExistsAsync();
        await collection.UpsertAsync(Hotel("a"));

        await collection.EnsureCollectionDeletedAsync();
        Assert.False(await collection.CollectionExistsAsync());

        await collection.EnsureCollectionExistsAsync();
        Assert.Null(await collection.GetAsync("a"));
    }

    [Fact]
    public async Task EnsureCollectionDeleted_MissingCollection_DoesNothing()
    {
        var collection = Fixture.CreateStore().GetCollection<string, Hotel>(Fixture.NewCollectionName());

        await collection.EnsureCollectionDeletedAsync();

        Assert.False(await collection.CollectionExistsAsync());
    }

    [Fact]
    public async Task Store_ListsExistsAndDeletesCollectionsByName()
    {
        var store = Fixture.CreateStore();
        string first = Fixture.NewCollectionName("listed"), second = Fixture.NewCollectionName("listed");
        await store.GetCollection<string, Hotel>(first).EnsureCollectionExistsAsync();
        await store.GetCollection<string, Hotel>(second).EnsureCollectionExistsAsync();

        var names = await store.ListCollectionNamesAsync().ToListAsync();
        Assert.Contains(first, names);
        Assert.Contains(second, names);
        Assert.True(await store.CollectionExistsAsync(first));

        await store.EnsureCollectionDeletedAsync(first);

        Assert.False(await store.CollectionExistsAsync(first));
        Assert.DoesNotContain(first, await store.ListCollectionNamesAsync().ToListAsync());
        await store.EnsureCollectionDeletedAsync(first); // again: no error
    }

    [Fact]
    public async Task Upsert_IntoMissingCollection_ThrowsVectorStoreExceptionNamingIt()
    {
        string name = Fixture.NewCollectionName("absent");
        var collection = Fixture.CreateStore().GetCollection<string, Hotel>(name);

        var error = await Assert.ThrowsAsync<VectorStoreException>(() => collection.UpsertAsync(Hotel("a")));

        Assert.Equal(name, error.CollectionName);
        Assert.Equal("oxivec", error.VectorStoreSystemName);
        Assert.Equal("Upsert", error.OperationName);
    }

    [Fact]
    public async Task Get_FromMissingCollection_ThrowsVectorStoreException()
    {
        var collection = Fixture.CreateStore().GetCollection<string, Hotel>(Fixture.NewCollectionName("absent"));

        await Assert.ThrowsAsync<VectorStoreException>(() => collection.GetAsync("a"));
    }

    [Fact]
    public async Task EnsureCollectionExists_InvalidName_ThrowsVectorStoreException()
    {
        var collection = Fixture.CreateStore().GetCollection<string, Hotel>("no spaces allowed");

        await Assert.ThrowsAsync<VectorStoreException>(() => collection.EnsureCollectionExistsAsync());
    }

    [Fact]
    public void GetService_GivesTheStoreAndCollectionMetadata()
    {
        var store = Fixture.CreateStore();
        string name = Fixture.NewCollectionName();
        var collection = store.GetCollection<string, Hotel>(name);

        var storeMetadata = (VectorStoreMetadata?)store.GetService(typeof(VectorStoreMetadata));
        var collectionMetadata = (VectorStoreCollectionMetadata?)collection.GetService(typeof(VectorStoreCollectionMetadata));

        Assert.Equal("oxivec", storeMetadata!.VectorStoreSystemName);
        Assert.Equal(Fixture.Backend.Name, storeMetadata.VectorStoreName);
        Assert.Equal("oxivec", collectionMetadata!.VectorStoreSystemName);
        Assert.Equal(name, collectionMetadata.CollectionName);
        Assert.Same(Fixture.Backend, collection.GetService(typeof(IOxiVecBackend)));
        Assert.Null(collection.GetService(typeof(VectorStoreCollectionMetadata), serviceKey: "other"));
        Assert.Null(store.GetService(typeof(string)));
    }

    [Fact]
    public void Collections_AreNotKeywordHybridSearchable_AsOxiVecHasNoKeywordIndex()
    {
        var collection = Fixture.CreateStore().GetCollection<string, Hotel>(Fixture.NewCollectionName());

        Assert.False(collection is IKeywordHybridSearchable<Hotel>);
        Assert.Null(collection.GetService(typeof(IKeywordHybridSearchable<Hotel>)));
    }
}
