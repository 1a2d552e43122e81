using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.VectorData;
using OxiVec.Storage;
using OxiVec.VectorData.DependencyInjection;
using OxiVec.VectorData.Tests.Support;

namespace OxiVec.VectorData.Tests.Embedded;

/// <summary>Registering the embedded back end from a data directory, from configuration, or over a registered database.</summary>
public sealed class EmbeddedServiceRegistrationTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "oxivec-vectordata-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    private static async Task UseAsync(VectorStoreCollection<string, Hotel> collection)
    {
        await collection.EnsureCollectionExistsAsync();
        await collection.UpsertAsync(new Hotel { Id = "a", Name = "A", Embedding = new float[] { 1, 0, 0 } });
        Assert.Equal("A", (await collection.GetAsync("a"))!.Name);
    }

    [Fact]
    public async Task AddOxiVecVectorStore_WithADataDirectory_OpensTheDatabaseThereAndDisposesItWithTheContainer()
    {
        await using (ServiceProvider provider = new ServiceCollection().AddOxiVecVectorStore(_directory).AddOxiVecCollection<string, Hotel>("hotels").BuildServiceProvider())
        {
            await UseAsync(provider.GetRequiredService<VectorStoreCollection<string, Hotel>>());
            Assert.Equal(_directory, provider.GetRequiredService<VectorStore>().GetService(typeof(VectorStoreMetadata)) is VectorStoreMetadata m ? m.VectorStoreName : null);
        }

        using var reopened = VectorDatabase.Open(_directory); // the container closed it: it opens again
        Assert.NotNull(reopened.Get("hotels", "a"));
    }

    [Fact]
    public async Task AddOxiVecVectorStore_FromConfiguration_ReadsTheDataDirectory()
    {
        IConfiguration configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["OxiVec:DataDirectory"] = _directory })
            .Build();
        await using ServiceProvider provider = new ServiceCollection().AddOxiVecVectorStore(configuration.GetSection("OxiVec")).BuildServiceProvider();

        await UseAsync(provider.GetRequiredService<VectorStore>().GetCollection<string, Hotel>("hotels"));

        Assert.True(Directory.Exists(_directory));
    }

    [Fact]
    public void AddOxiVecVectorStore_FromConfigurationWithoutADataDirectory_FailsNamingTheKey()
    {
        IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["OxiVec:Other"] = "x" }).Build();

        var error = Assert.Throws<InvalidOperationException>(() => new ServiceCollection().AddOxiVecVectorStore(configuration.GetSection("OxiVec")));

        Assert.Contains("DataDirectory", error.Message, StringComparison.Ordinal);
        Assert.Contains("OxiVec", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddOxiVecVectorStore_OverARegisteredDatabase_UsesIt()
    {
        using var database = VectorDatabase.Open(_directory);
        var services = new ServiceCollection();
        services.AddSingleton(database);
        await using ServiceProvider provider = services.AddOxiVecVectorStore().BuildServiceProvider();

        await UseAsync(provider.GetRequiredService<VectorStore>().GetCollection<string, Hotel>("hotels"));

        Assert.NotNull(database.Get("hotels", "a"));
    }

    [Fact]
    public async Task KeyedStores_OverTwoDataDirectories_AreSeparate()
    {
        string other = _directory + "-other";
        try
        {
            await using ServiceProvider provider = new ServiceCollection()
                .AddKeyedOxiVecVectorStore("one", _directory)
                .AddKeyedOxiVecVectorStore("two", other)
                .BuildServiceProvider();

            await UseAsync(provider.GetRequiredKeyedService<VectorStore>("one").GetCollection<string, Hotel>("hotels"));

            Assert.True(await provider.GetRequiredKeyedService<VectorStore>("one").CollectionExistsAsync("hotels"));
            Assert.False(await provider.GetRequiredKeyedService<VectorStore>("two").CollectionExistsAsync("hotels"));
        }
        finally
        {
            if (Directory.Exists(other))
            {
                Directory.Delete(other, recursive: true);
            }
        }
    }
}
