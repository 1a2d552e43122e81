using Microsoft.Extensions.VectorData;
using OxiVec.Storage;
using OxiVec.VectorData.Embedded;
using OxiVec.VectorData.Tests.Support;

namespace OxiVec.VectorData.Tests.Embedded;

/// <summary>What only the embedded back end promises: one WAL commit per batch, and records that survive a reopen.</summary>
public sealed class EmbeddedBackendTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "oxivec-vectordata-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    // Every commit waits for its own fsync, so CommitSyncs counts commits.
    private static readonly VectorDatabaseOptions SyncEveryCommit = new() { Wal = Wal.WalConfig.MaximumDurability };

    private static Hotel Hotel(string id, int rating) => new() { Id = id, Name = "Hotel " + id, Rating = rating, Tags = ["x"], Embedding = new float[] { rating, 1, 0 } };

    [Fact]
    public async Task UpsertMany_IsOneWalCommit()
    {
        using var backend = OxiVecEmbeddedBackend.Open(_directory, SyncEveryCommit);
        var collection = new OxiVecVectorStore(backend).GetCollection<string, Hotel>("hotels");
        await collection.EnsureCollectionExistsAsync();
        long before = backend.Database.GetWalMetrics().CommitSyncs;

        await collection.UpsertAsync(Enumerable.Range(0, 50).Select(i => Hotel("h" + i, i)));

        Assert.Equal(before + 1, backend.Database.GetWalMetrics().CommitSyncs);
        Assert.Equal(50, backend.Database.Count("hotels"));
    }

    [Fact]
    public async Task DeleteMany_IsOneWalCommit()
    {
        using var backend = OxiVecEmbeddedBackend.Open(_directory, SyncEveryCommit);
        var collection = new OxiVecVectorStore(backend).GetCollection<string, Hotel>("hotels");
        await collection.EnsureCollectionExistsAsync();
        await collection.UpsertAsync(Enumerable.Range(0, 10).Select(i => Hotel("h" + i, i)));
        long before = backend.Database.GetWalMetrics().CommitSyncs;

        await collection.DeleteAsync(["h1", "h2", "h3", "absent"]);

        Assert.Equal(before + 1, backend.Database.GetWalMetrics().CommitSyncs);
        Assert.Equal(7, backend.Database.Count("hotels"));
    }

    [Fact]
    public async Task UpsertedRecords_SurviveClosingAndReopeningTheDatabase()
    {
        using (var backend = OxiVecEmbeddedBackend.Open(_directory))
        {
            var collection = new OxiVecVectorStore(backend).GetCollection<string, Hotel>("hotels");
            await collection.EnsureCollectionExistsAsync();
            await collection.UpsertAsync([Hotel("a", 1), Hotel("b", 2)]);
        }

        using var reopened = OxiVecEmbeddedBackend.Open(_directory);
        var again = new OxiVecVectorStore(reopened).GetCollection<string, Hotel>("hotels");

        Hotel? b = await again.GetAsync("b", new RecordRetrievalOptions { IncludeVectors = true });
        Assert.Equal("Hotel b", b!.Name);
        Assert.Equal([2f, 1f, 0f], b.Embedding.ToArray());
        Assert.Equal("a", Assert.Single(await again.SearchAsync(new float[] { 1, 1, 0 }, top: 1).ToListAsync()).Record.Id);
    }

    [Fact]
    public void Store_OverADatabase_ExposesItThroughGetService()
    {
        using var database = VectorDatabase.Open(_directory);
        var store = new OxiVecVectorStore(database);

        Assert.Same(database, store.GetService(typeof(VectorDatabase)));
        Assert.Same(database, store.GetCollection<string, Hotel>("hotels").GetService(typeof(VectorDatabase)));
        Assert.Equal(database.DataDirectory, ((VectorStoreMetadata)store.GetService(typeof(VectorStoreMetadata))!).VectorStoreName);
    }

    [Fact]
    public void Backend_OverAGivenDatabase_DoesNotDisposeIt()
    {
        using var database = VectorDatabase.Open(_directory);
        var backend = new OxiVecEmbeddedBackend(database);

        backend.Dispose();

        database.CreateCollection("still-open", new CollectionOptions(2));
        Assert.True(database.CollectionExists("still-open"));
    }

    [Fact]
    public async Task CollectionOptions_Hnsw_SetsTheParametersOfANewCollection()
    {
        using var backend = OxiVecEmbeddedBackend.Open(_directory);
        var definition = Definitions.Vector(DistanceFunction.CosineSimilarity, Microsoft.Extensions.VectorData.IndexKind.Hnsw);
        var hnsw = new OxiVecCollection<string, NativeVectorRecord>(backend, "tuned-hnsw", new OxiVecCollectionOptions { Definition = definition, Hnsw = new Indexing.HnswParameters { M = 8, EfSearch = 100 } });

        await hnsw.EnsureCollectionExistsAsync();

        CollectionOptions options = backend.Database.GetCollection("tuned-hnsw").Options;
        Assert.Equal(Storage.IndexKind.Hnsw, options.Index);
        Assert.Equal(8, options.Hnsw.M);
        Assert.Equal(100, options.Hnsw.EfSearch);
    }
}
