using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.VectorData;
using OxiVec.VectorData.DependencyInjection;
using OxiVec.VectorData.Tests.Support;

namespace OxiVec.VectorData.Tests.Conformance;

/// <summary>Registering the store and collections in a container, keyed and not, over the back end registered there.</summary>
public abstract class DependencyInjectionConformance(BackendFixture fixture)
{
    protected BackendFixture Fixture { get; } = fixture;

    private ServiceCollection WithBackend(object? key = null)
    {
        var services = new ServiceCollection();
        if (key is null)
        {
            services.AddSingleton(Fixture.Backend); // an instance: the container does not dispose it
        }
        else
        {
            services.AddKeyedSingleton(key, Fixture.Backend);
        }

        return services;
    }

    [Fact]
    public void AddOxiVecVectorStore_ResolvesTheSameStoreAsVectorStoreAndOxiVecVectorStore()
    {
        using ServiceProvider provider = WithBackend().AddOxiVecVectorStore().BuildServiceProvider();

        var store = provider.GetRequiredService<VectorStore>();

        Assert.Same(store, provider.GetRequiredService<OxiVecVectorStore>());
        Assert.Same(Fixture.Backend, ((OxiVecVectorStore)store).Backend);
    }

    [Fact]
    public void AddKeyedOxiVecVectorStore_ResolvesUnderTheKeyOnly()
    {
        using ServiceProvider provider = WithBackend("k").AddKeyedOxiVecVectorStore("k").BuildServiceProvider();

        Assert.NotNull(provider.GetKeyedService<VectorStore>("k"));
        Assert.Null(provider.GetService<VectorStore>());
        Assert.Same(Fixture.Backend, provider.GetRequiredKeyedService<OxiVecVectorStore>("k").Backend);
    }

    [Fact]
    public async Task AddOxiVecCollection_ResolvesAWorkingCollectionUnderEachServiceType()
    {
        string name = Fixture.NewCollectionName("di");
        using ServiceProvider provider = WithBackend().AddOxiVecCollection<string, Hotel>(name).BuildServiceProvider();

        var collection = provider.GetRequiredService<VectorStoreCollection<string, Hotel>>();
        Assert.Same(collection, provider.GetRequiredService<OxiVecCollection<string, Hotel>>());
        Assert.Same(collection, provider.GetRequiredService<IVectorSearchable<Hotel>>());
        Assert.Equal(name, collection.Name);

        await collection.EnsureCollectionExistsAsync();
        await collection.UpsertAsync(new Hotel { Id = "a", Embedding = new float[] { 1, 0, 0 } });
        Assert.NotNull(await collection.GetAsync("a"));
    }

    [Fact]
    public void AddKeyedOxiVecCollection_ResolvesUnderTheKeyOnly()
    {
        using ServiceProvider provider = WithBackend().AddKeyedOxiVecCollection<string, Hotel>("hotels", Fixture.NewCollectionName("di")).BuildServiceProvider();

        Assert.NotNull(provider.GetKeyedService<VectorStoreCollection<string, Hotel>>("hotels"));
        Assert.NotNull(provider.GetKeyedService<IVectorSearchable<Hotel>>("hotels"));
        Assert.Null(provider.GetService<VectorStoreCollection<string, Hotel>>());
    }

    [Fact]
    public async Task AddOxiVecCollection_WithoutOptions_UsesTheContainersEmbeddingGenerator()
    {
        using var generator = new LetterCountEmbeddingGenerator();
        ServiceCollection services = WithBackend();
        services.AddSingleton<IEmbeddingGenerator>(generator);
        using ServiceProvider provider = services.AddOxiVecCollection<string, TextRecord>(Fixture.NewCollectionName("di")).BuildServiceProvider();

        var collection = provider.GetRequiredService<VectorStoreCollection<string, TextRecord>>();
        await collection.EnsureCollectionExistsAsync();
        await collection.UpsertAsync(new TextRecord { Id = "a", Text = "aaa", Embedding = "aaa" });

        var hit = Assert.Single(await collection.SearchAsync("a", top: 1).ToListAsync());
        Assert.Equal("a", hit.Record.Id);
        Assert.Equal(2, generator.Generated);
    }

    [Fact]
    public void AddOxiVecVectorStore_WithoutABackend_FailsNamingWhatToRegister()
    {
        using ServiceProvider provider = new ServiceCollection().AddOxiVecVectorStore().BuildServiceProvider();

        var error = Assert.Throws<InvalidOperationException>(() => provider.GetRequiredService<VectorStore>());

        Assert.Contains("AddOxiVecEmbeddedBackend", error.Message, StringComparison.Ordinal);
    }
}
