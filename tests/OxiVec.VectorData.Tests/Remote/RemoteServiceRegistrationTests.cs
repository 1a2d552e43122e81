using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.VectorData;
using OxiVec.VectorData.DependencyInjection;
using OxiVec.VectorData.Remote;
using OxiVec.VectorData.Tests.Support;

namespace OxiVec.VectorData.Tests.Remote;

/// <summary>The remote back end registered in a container (from code, from configuration, keyed) against a real server.</summary>
public sealed class RemoteServiceRegistrationTests(RemoteFixture fixture) : IClassFixture<RemoteFixture>
{
    [Fact]
    public async Task AddOxiVecRemoteVectorStore_ResolvesAStoreOverTheServer_WhoseWritesTheServerHolds()
    {
        string name = fixture.NewCollectionName("remote-di");
        await using ServiceProvider provider = new ServiceCollection()
            .AddOxiVecRemoteVectorStore(o => o.Endpoint = fixture.Client.Endpoint)
            .BuildServiceProvider();

        var store = provider.GetRequiredService<VectorStore>();
        Assert.IsType<OxiVecRemoteBackend>(((OxiVecVectorStore)store).Backend);
        VectorStoreCollection<string, Hotel> hotels = store.GetCollection<string, Hotel>(name);
        await hotels.EnsureCollectionExistsAsync();
        await hotels.UpsertAsync(new Hotel { Id = "h1", Name = "Seaside", Rating = 4, Tags = ["sea"], Embedding = new float[] { 1, 0, 0 } });

        Assert.Equal("Seaside", (await hotels.GetAsync("h1"))?.Name);
        Assert.Contains(name, await fixture.Backend.ListCollectionsAsync()); // the same server, seen through the fixture's own client
    }

    [Fact]
    public async Task AddOxiVecRemoteBackend_WithoutOptionsInCode_ReadsOxiVecClientFromTheRegisteredConfiguration()
    {
        IConfiguration configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["OxiVec:Client:Endpoint"] = fixture.Client.Endpoint.ToString() })
            .Build();
        await using ServiceProvider provider = new ServiceCollection()
            .AddSingleton(configuration)
            .AddOxiVecRemoteBackend()
            .AddOxiVecVectorStore()
            .BuildServiceProvider();

        var backend = (OxiVecRemoteBackend)provider.GetRequiredService<IOxiVecBackend>();

        Assert.Equal(fixture.Client.Endpoint, backend.Client.Endpoint);
        Assert.NotNull(await provider.GetRequiredService<VectorStore>().ListCollectionNamesAsync().ToListAsync());
    }

    [Fact]
    public async Task AddOxiVecRemoteBackend_FromASection_BindsItsEndpoint_AndABadEndpointFailsNamingTheSetting()
    {
        IConfiguration good = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Remote:Endpoint"] = fixture.Client.Endpoint.ToString() })
            .Build();
        await using ServiceProvider provider = new ServiceCollection().AddOxiVecRemoteBackend(good.GetSection("Remote")).BuildServiceProvider();
        Assert.Equal(fixture.Client.Endpoint, ((OxiVecRemoteBackend)provider.GetRequiredService<IOxiVecBackend>()).Client.Endpoint);

        IConfiguration bad = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Remote:Endpoint"] = "not a uri" })
            .Build();
        await using ServiceProvider badProvider = new ServiceCollection().AddOxiVecRemoteBackend(bad.GetSection("Remote")).BuildServiceProvider();
        var error = Assert.Throws<ArgumentException>(() => badProvider.GetRequiredService<IOxiVecBackend>());
        Assert.Contains("Endpoint", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddKeyedOxiVecRemoteVectorStore_ResolvesUnderTheKeyOnly_EachKeyWithItsOwnEndpoint()
    {
        var elsewhere = new Uri("http://127.0.0.1:9/");
        await using ServiceProvider provider = new ServiceCollection()
            .AddKeyedOxiVecRemoteVectorStore("here", o => o.Endpoint = fixture.Client.Endpoint)
            .AddKeyedOxiVecRemoteVectorStore("there", o => o.Endpoint = elsewhere)
            .BuildServiceProvider();

        Assert.Null(provider.GetService<VectorStore>());
        Assert.Equal(fixture.Client.Endpoint, ((OxiVecRemoteBackend)provider.GetRequiredKeyedService<OxiVecVectorStore>("here").Backend).Client.Endpoint);
        Assert.Equal(elsewhere, ((OxiVecRemoteBackend)provider.GetRequiredKeyedService<OxiVecVectorStore>("there").Backend).Client.Endpoint);
        Assert.NotNull(await provider.GetRequiredKeyedService<VectorStore>("here").ListCollectionNamesAsync().ToListAsync());
    }
}
