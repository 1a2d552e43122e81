using Microsoft.Extensions.AI;
using Microsoft.Extensions.VectorData;
using OxiVec.VectorData.Tests.Support;

namespace OxiVec.VectorData.Tests.Conformance;

/// <summary>Vectors generated from text by an IEmbeddingGenerator configured on the store, the collection or the property.</summary>
public abstract class EmbeddingGenerationConformance(BackendFixture fixture)
{
    protected BackendFixture Fixture { get; } = fixture;

    private static TextRecord[] Texts() =>
    [
        new() { Id = "as", Text = "aaaa", Embedding = "aaaa" },
        new() { Id = "bs", Text = "bbbb", Embedding = "bbbb" },
        new() { Id = "cs", Text = "cccc", Embedding = "cccc" },
    ];

    private static async Task AssertFindsByTextAsync(VectorStoreCollection<string, TextRecord> collection)
    {
        await collection.EnsureCollectionExistsAsync();
        await collection.UpsertAsync(Texts());

        var hits = await collection.SearchAsync("bb", top: 1).ToListAsync();

        Assert.Equal("bs", Assert.Single(hits).Record.Id);
        Assert.Equal(1.0, hits[0].Score!.Value, 3);
    }

    [Fact]
    public async Task GeneratorOnTheStore_EmbedsRecordsAndQueries()
    {
        using var generator = new LetterCountEmbeddingGenerator();
        var store = Fixture.CreateStore(new OxiVecVectorStoreOptions { EmbeddingGenerator = generator });

        await AssertFindsByTextAsync(store.GetCollection<string, TextRecord>(Fixture.NewCollectionName("gen")));

        Assert.Equal(4, generator.Generated); // three records, one query
    }

    [Fact]
    public async Task GeneratorOnTheCollection_EmbedsRecordsAndQueries()
    {
        using var generator = new LetterCountEmbeddingGenerator();

        await AssertFindsByTextAsync(new OxiVecCollection<string, TextRecord>(
            Fixture.Backend, Fixture.NewCollectionName("gen"), new OxiVecCollectionOptions { EmbeddingGenerator = generator }));
    }

    [Fact]
    public async Task GeneratorInTheDefinition_EmbedsRecordsAndQueries()
    {
        using var generator = new LetterCountEmbeddingGenerator();
        var definition = new VectorStoreCollectionDefinition
        {
            EmbeddingGenerator = generator,
            Properties = [new VectorStoreKeyProperty("Id", typeof(string)), new VectorStoreDataProperty("Text", typeof(string)), new VectorStoreVectorProperty("Embedding", typeof(string), 3)],
        };

        await AssertFindsByTextAsync(Fixture.CreateStore().GetCollection<string, TextRecord>(Fixture.NewCollectionName("gen"), definition));
    }

    [Fact]
    public async Task GeneratorOnTheProperty_TakesPrecedenceOverTheStores()
    {
        using var storeGenerator = new LetterCountEmbeddingGenerator();
        using var propertyGenerator = new LetterCountEmbeddingGenerator();
        var definition = new VectorStoreCollectionDefinition
        {
            Properties =
            [
                new VectorStoreKeyProperty("Id", typeof(string)),
                new VectorStoreDataProperty("Text", typeof(string)),
                new VectorStoreVectorProperty("Embedding", typeof(string), 3) { EmbeddingGenerator = propertyGenerator },
            ],
        };
        var store = Fixture.CreateStore(new OxiVecVectorStoreOptions { EmbeddingGenerator = storeGenerator });

        await AssertFindsByTextAsync(store.GetCollection<string, TextRecord>(Fixture.NewCollectionName("gen"), definition));

        Assert.Equal(4, propertyGenerator.Generated);
        Assert.Equal(0, storeGenerator.Generated);
    }

    [Fact]
    public async Task NativeVectorProperty_WithAGenerator_CanBeSearchedByText()
    {
        using var generator = new LetterCountEmbeddingGenerator();
        var collection = Fixture.CreateStore(new OxiVecVectorStoreOptions { EmbeddingGenerator = generator })
            .GetCollection<string, NativeVectorRecord>(Fixture.NewCollectionName("gen"));
        await collection.EnsureCollectionExistsAsync();
        await collection.UpsertAsync(
        [
            new NativeVectorRecord { Id = "a", Embedding = LetterCountEmbeddingGenerator.Embed("a") },
            new NativeVectorRecord { Id = "c", Embedding = LetterCountEmbeddingGenerator.Embed("c") },
        ]);

        var byText = await collection.SearchAsync("ccc", top: 1).ToListAsync();
        var byVector = await collection.SearchAsync(LetterCountEmbeddingGenerator.Embed("ccc"), top: 1).ToListAsync();

        Assert.Equal("c", Assert.Single(byText).Record.Id);
        Assert.Equal("c", Assert.Single(byVector).Record.Id);
        Assert.Equal(1, generator.Generated); // only the text query, never the float vectors
    }

    [Fact]
    public async Task SearchByText_WithoutAGenerator_ThrowsNotSupported()
    {
        var collection = Fixture.CreateStore().GetCollection<string, NativeVectorRecord>(Fixture.NewCollectionName("gen"));
        await collection.EnsureCollectionExistsAsync();

        await Assert.ThrowsAsync<NotSupportedException>(() => collection.SearchAsync("text", top: 1).ToListAsync().AsTask());
    }

    [Fact]
    public void TextVectorProperty_WithoutAGenerator_IsRefusedAtConstruction()
    {
        Assert.Throws<InvalidOperationException>(() => Fixture.CreateStore().GetCollection<string, TextRecord>(Fixture.NewCollectionName("gen")));
    }

    [Fact]
    public async Task IncludeVectors_OnAGeneratedProperty_ThrowsNotSupported()
    {
        using var generator = new LetterCountEmbeddingGenerator();
        var collection = Fixture.CreateStore(new OxiVecVectorStoreOptions { EmbeddingGenerator = generator }).GetCollection<string, TextRecord>(Fixture.NewCollectionName("gen"));
        await collection.EnsureCollectionExistsAsync();
        await collection.UpsertAsync(Texts());

        await Assert.ThrowsAsync<NotSupportedException>(() => collection.GetAsync("as", new RecordRetrievalOptions { IncludeVectors = true }));
        await Assert.ThrowsAsync<NotSupportedException>(() => collection.SearchAsync("a", top: 1, new() { IncludeVectors = true }).ToListAsync().AsTask());
        Assert.Equal("aaaa", (await collection.GetAsync("as"))!.Text);
    }

    [Fact]
    public async Task DynamicCollection_WithATextVector_EmbedsRecordsAndQueries()
    {
        using var generator = new LetterCountEmbeddingGenerator();
        var definition = new VectorStoreCollectionDefinition
        {
            Properties = [new VectorStoreKeyProperty("Id", typeof(string)), new VectorStoreVectorProperty("Embedding", typeof(string), 3)],
        };
        var collection = Fixture.CreateStore(new OxiVecVectorStoreOptions { EmbeddingGenerator = generator }).GetDynamicCollection(Fixture.NewCollectionName("gen"), definition);
        await collection.EnsureCollectionExistsAsync();
        await collection.UpsertAsync(
        [
            new Dictionary<string, object?> { ["Id"] = "x", ["Embedding"] = "aaa" },
            new Dictionary<string, object?> { ["Id"] = "y", ["Embedding"] = "bbb" },
        ]);

        var hit = Assert.Single(await collection.SearchAsync("bbbbb", top: 1).ToListAsync());

        Assert.Equal("y", hit.Record["Id"]);
    }

    [Fact]
    public async Task UpsertMany_WithANullRecord_ThrowsArgumentNull_BeforeEmbeddingAnything()
    {
        using var generator = new LetterCountEmbeddingGenerator();
        var collection = Fixture.CreateStore(new OxiVecVectorStoreOptions { EmbeddingGenerator = generator }).GetCollection<string, TextRecord>(Fixture.NewCollectionName("gen"));
        await collection.EnsureCollectionExistsAsync();

        await Assert.ThrowsAsync<ArgumentNullException>(() => collection.UpsertAsync([Texts()[0], null!]));

        Assert.Equal(0, generator.Generated);
        Assert.Null(await collection.GetAsync("as"));
    }

    [Fact]
    public async Task UpsertMany_EmbedsTheBatchInOneCall()
    {
        var generator = new CountingBatchGenerator();
        var collection = Fixture.CreateStore(new OxiVecVectorStoreOptions { EmbeddingGenerator = generator }).GetCollection<string, TextRecord>(Fixture.NewCollectionName("gen"));
        await collection.EnsureCollectionExistsAsync();

        await collection.UpsertAsync(Texts());

        Assert.Equal(1, generator.Calls);
    }

    private sealed class CountingBatchGenerator : IEmbeddingGenerator<string, Embedding<float>>
    {
        public int Calls { get; private set; }

        public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
        {
            Calls++;
            return Task.FromResult(new GeneratedEmbeddings<Embedding<float>>(values.Select(v => new Embedding<float>(LetterCountEmbeddingGenerator.Embed(v)))));
        }

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }
}
