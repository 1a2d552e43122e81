using Microsoft.Extensions.AI;
using Microsoft.Extensions.VectorData;
using OxiVec.Storage;
using OxiVec.VectorData;

namespace OxiVec.Samples.Tests;

/// <summary>
/// What the sample relies on in the provider: a text query on a float-vector property is embedded by the
/// generator the store was given (the sample's queries go through this path).
/// </summary>
public sealed class ProviderTextSearchTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "oxivec-samples-tests-" + Guid.NewGuid().ToString("n")[..12]);

    [Fact]
    public async Task SearchAsync_TextQueryOnAFloatVectorProperty_IsEmbeddedByTheStoresGenerator()
    {
        var generator = new AxisGenerator();
        using var database = VectorDatabase.Open(_directory, new VectorDatabaseOptions());
        using var store = new OxiVecVectorStore(database, new OxiVecVectorStoreOptions { EmbeddingGenerator = generator });
        using VectorStoreCollection<string, Item> collection = store.GetCollection<string, Item>("items");
        await collection.EnsureCollectionExistsAsync();
        await collection.UpsertAsync([new Item { Name = "x", Embedding = new float[] { 1, 0, 0 } }, new Item { Name = "y", Embedding = new float[] { 0, 1, 0 } }]);

        var hits = new List<VectorSearchResult<Item>>();
        await foreach (VectorSearchResult<Item> hit in collection.SearchAsync("y", 1))
        {
            hits.Add(hit);
        }

        Assert.Equal(["y"], generator.Asked);
        Assert.Equal("y", Assert.Single(hits).Record.Name);
        Assert.Equal(1.0, hits[0].Score!.Value, 6);
    }

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    public sealed class Item
    {
        [VectorStoreKey]
        public string Name { get; set; } = string.Empty;

        [VectorStoreVector(3, DistanceFunction = DistanceFunction.CosineSimilarity, IndexKind = Microsoft.Extensions.VectorData.IndexKind.Hnsw)]
        public ReadOnlyMemory<float> Embedding { get; set; }
    }

    /// <summary>Embeds "x", "y" and "z" as the unit vectors of their axes, and records what it was asked.</summary>
    private sealed class AxisGenerator : IEmbeddingGenerator<string, Embedding<float>>
    {
        public List<string> Asked { get; } = [];

        public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(
            IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
        {
            var embeddings = new GeneratedEmbeddings<Embedding<float>>();
            foreach (string value in values)
            {
                Asked.Add(value);
                var vector = new float[3];
                vector["xyz".IndexOf(value, StringComparison.Ordinal)] = 1;
                embeddings.Add(new Embedding<float>(vector));
            }

            return Task.FromResult(embeddings);
        }

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }
}
