using Microsoft.Extensions.AI;
using OxiVec.VectorData.Tests.Support;

namespace OxiVec.VectorData.Tests.Conformance;

/// <summary>Vector properties of each float type round-trip and are searchable with query vectors of each type.</summary>
public abstract class EmbeddingTypeConformance(BackendFixture fixture)
{
    protected BackendFixture Fixture { get; } = fixture;

    private async Task<float[]> RoundTripAsync<TVector>(TVector a, TVector b, Func<TVector, float[]> floats)
    {
        var collection = Fixture.CreateStore().GetCollection<string, VectorTypeRecord<TVector>>(Fixture.NewCollectionName("vectype"));
        await collection.EnsureCollectionExistsAsync();
        await collection.UpsertAsync([new VectorTypeRecord<TVector> { Id = "a", Vector = a }, new VectorTypeRecord<TVector> { Id = "b", Vector = b }]);

        var hit = Assert.Single(await collection.SearchAsync(new ReadOnlyMemory<float>(floats(b)), top: 1, new() { IncludeVectors = true }).ToListAsync());
        Assert.Equal("b", hit.Record.Id);
        return floats(hit.Record.Vector);
    }

    [Fact]
    public async Task ReadOnlyMemoryVector_RoundTrips() =>
        Assert.Equal(new[] { 4f, 5f, 6f }, await RoundTripAsync(new ReadOnlyMemory<float>([1, 2, 3]), new ReadOnlyMemory<float>([4, 5, 6]), v => v.ToArray()));

    [Fact]
    public async Task NullableReadOnlyMemoryVector_RoundTrips() =>
        Assert.Equal(new[] { 4f, 5f, 6f }, await RoundTripAsync<ReadOnlyMemory<float>?>(new ReadOnlyMemory<float>([1, 2, 3]), new ReadOnlyMemory<float>([4, 5, 6]), v => v!.Value.ToArray()));

    [Fact]
    public async Task FloatArrayVector_RoundTrips() =>
        Assert.Equal(new[] { 4f, 5f, 6f }, await RoundTripAsync(new float[] { 1, 2, 3 }, new float[] { 4, 5, 6 }, v => v));

    [Fact]
    public async Task EmbeddingVector_RoundTrips() =>
        Assert.Equal(new[] { 4f, 5f, 6f }, await RoundTripAsync(new Embedding<float>(new float[] { 1, 2, 3 }), new Embedding<float>(new float[] { 4, 5, 6 }), Vectors.Of));

    [Fact]
    public async Task SearchInput_OfEachFloatType_FindsTheSameRecord()
    {
        var collection = Fixture.CreateStore().GetCollection<string, VectorTypeRecord<float[]>>(Fixture.NewCollectionName("vectype"));
        await collection.EnsureCollectionExistsAsync();
        await collection.UpsertAsync([new VectorTypeRecord<float[]> { Id = "a", Vector = [1, 0, 0] }, new VectorTypeRecord<float[]> { Id = "b", Vector = [0, 1, 0] }]);

        var byMemory = await collection.SearchAsync(new ReadOnlyMemory<float>([0, 0.9f, 0]), top: 1).ToListAsync();
        var byArray = await collection.SearchAsync(new float[] { 0, 0.9f, 0 }, top: 1).ToListAsync();
        var byEmbedding = await collection.SearchAsync(new Embedding<float>(new float[] { 0, 0.9f, 0 }), top: 1).ToListAsync();

        Assert.All([byMemory, byArray, byEmbedding], r => Assert.Equal("b", Assert.Single(r).Record.Id));
    }

    [Fact]
    public void UnsupportedVectorType_WithoutAGenerator_IsRefusedAtConstruction()
    {
        Assert.Throws<InvalidOperationException>(() => Fixture.CreateStore().GetCollection<string, VectorTypeRecord<double[]>>(Fixture.NewCollectionName("vectype")));
    }

    [Fact]
    public async Task VectorWithNaN_IsRefused_AndNothingIsWritten()
    {
        var collection = Fixture.CreateStore().GetCollection<string, VectorTypeRecord<float[]>>(Fixture.NewCollectionName("vectype"));
        await collection.EnsureCollectionExistsAsync();

        await Assert.ThrowsAsync<Microsoft.Extensions.VectorData.VectorStoreException>(() => collection.UpsertAsync(new VectorTypeRecord<float[]> { Id = "nan", Vector = [1, float.NaN, 0] }));

        Assert.Null(await collection.GetAsync("nan"));
    }
}
