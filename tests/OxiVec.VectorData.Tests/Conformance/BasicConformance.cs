using Microsoft.Extensions.VectorData;
using OxiVec.VectorData.Tests.Support;

namespace OxiVec.VectorData.Tests.Conformance;

/// <summary>Upsert, get, delete, search and filtered get of a plain record type.</summary>
public abstract class BasicConformance(BackendFixture fixture)
{
    protected BackendFixture Fixture { get; } = fixture;

    private async Task<OxiVecCollection<string, Hotel>> NewCollectionAsync()
    {
        OxiVecCollection<string, Hotel> collection = Fixture.CreateStore().GetCollection<string, Hotel>(Fixture.NewCollectionName("hotels"));
        await collection.EnsureCollectionExistsAsync();
        return collection;
    }

    private static Hotel Hotel(string id, int rating, params float[] vector) =>
        new() { Id = id, Name = "Hotel " + id, Rating = rating, Parking = rating % 2 == 0, Tags = ["t" + rating], Embedding = vector };

    private async Task<OxiVecCollection<string, Hotel>> FiveHotelsAsync()
    {
        var collection = await NewCollectionAsync();
        await collection.UpsertAsync(
        [
            Hotel("h1", 1, 1, 0, 0), Hotel("h2", 2, 0.9f, 0.1f, 0), Hotel("h3", 3, 0.7f, 0.3f, 0),
            Hotel("h4", 4, 0.4f, 0.6f, 0), Hotel("h5", 5, 0, 1, 0),
        ]);
        return collection;
    }

    [Fact]
    public async Task Upsert_ThenGet_ReturnsTheSameRecord()
    {
        var collection = await NewCollectionAsync();
        await collection.UpsertAsync(Hotel("a", 4, 1, 2, 3));

        Hotel? read = await collection.GetAsync("a", new RecordRetrievalOptions { IncludeVectors = true });

        Assert.NotNull(read);
        Assert.Equal("Hotel a", read.Name);
        Assert.Equal(4, read.Rating);
        Assert.True(read.Parking);
        Assert.Equal(["t4"], read.Tags);
        Assert.Equal([1f, 2f, 3f], read.Embedding.ToArray()); // as given, not normalised for cosine
    }

    [Fact]
    public async Task Get_WithoutIncludeVectors_LeavesTheVectorEmpty()
    {
        var collection = await NewCollectionAsync();
        await collection.UpsertAsync(Hotel("a", 4, 1, 0, 0));

        Hotel? read = await collection.GetAsync("a");

        Assert.NotNull(read);
        Assert.True(read.Embedding.IsEmpty);
    }

    [Fact]
    public async Task Get_MissingKey_ReturnsNull()
    {
        var collection = await NewCollectionAsync();

        Assert.Null(await collection.GetAsync("nothing"));
    }

    [Fact]
    public async Task Upsert_ExistingKey_ReplacesTheRecord()
    {
        var collection = await NewCollectionAsync();
        await collection.UpsertAsync(Hotel("a", 1, 1, 0, 0));
        await collection.UpsertAsync(Hotel("a", 2, 0, 1, 0));

        Hotel? read = await collection.GetAsync("a", new RecordRetrievalOptions { IncludeVectors = true });

        Assert.Equal(2, read!.Rating);
        Assert.Equal([0f, 1f, 0f], read.Embedding.ToArray());
    }

    [Fact]
    public async Task GetMany_ReturnsTheExistingRecords_AndSkipsMissingKeys()
    {
        var collection = await FiveHotelsAsync();

        var read = await collection.GetAsync(["h1", "missing", "h3"]).ToListAsync();

        Assert.Equal(["h1", "h3"], read.Select(h => h.Id).Order());
    }

    [Fact]
    public async Task GetMany_NoKeys_ReturnsNothing()
    {
        var collection = await FiveHotelsAsync();

        Assert.Empty(await collection.GetAsync(Array.Empty<string>()).ToListAsync());
    }

    [Fact]
    public async Task UpsertMany_WithOneInvalidRecord_WritesNone()
    {
        var collection = await NewCollectionAsync();
        Hotel wrongDimension = Hotel("bad", 9, 1, 2);

        await Assert.ThrowsAsync<VectorStoreException>(() => collection.UpsertAsync([Hotel("good", 1, 1, 0, 0), wrongDimension]));

        Assert.Null(await collection.GetAsync("good"));
    }

    [Fact]
    public async Task UpsertMany_WithANullRecord_ThrowsArgumentNull_AndWritesNone()
    {
        var collection = await NewCollectionAsync();

        await Assert.ThrowsAsync<ArgumentNullException>(() => collection.UpsertAsync([Hotel("a", 1, 1, 0, 0), null!]));

        Assert.Null(await collection.GetAsync("a"));
    }

    [Fact]
    public async Task UpsertMany_SameKeyTwice_KeepsTheLastRecord()
    {
        var collection = await NewCollectionAsync();

        await collection.UpsertAsync([Hotel("a", 1, 1, 0, 0), Hotel("a", 7, 0, 1, 0)]);

        Assert.Equal(7, (await collection.GetAsync("a"))!.Rating);
    }

    [Fact]
    public async Task Delete_RemovesTheRecord_AndAMissingKeyIsNoError()
    {
        var collection = await FiveHotelsAsync();

        await collection.DeleteAsync("h2");
        await collection.DeleteAsync("never-there");

        Assert.Null(await collection.GetAsync("h2"));
        Assert.NotNull(await collection.GetAsync("h1"));
    }

    [Fact]
    public async Task DeleteMany_RemovesEveryGivenRecord()
    {
        var collection = await FiveHotelsAsync();

        await collection.DeleteAsync(["h1", "h3", "missing"]);

        var left = await collection.GetAsync(["h1", "h2", "h3", "h4", "h5"]).ToListAsync();
        Assert.Equal(["h2", "h4", "h5"], left.Select(h => h.Id).Order());
    }

    [Fact]
    public async Task Search_ReturnsTheClosestFirst_WithCosineScores()
    {
        var collection = await NewCollectionAsync();
        await collection.UpsertAsync([Hotel("x", 1, 1, 0, 0), Hotel("y", 2, 0, 1, 0), Hotel("xy", 3, 1, 1, 0)]);

        var results = await collection.SearchAsync(new ReadOnlyMemory<float>([1, 0, 0]), top: 2).ToListAsync();

        Assert.Equal(["x", "xy"], results.Select(r => r.Record.Id));
        Assert.Equal(1.0, results[0].Score!.Value, 5);
        Assert.Equal(Math.Sqrt(0.5), results[1].Score!.Value, 5);
    }

    [Fact]
    public async Task Search_WithSkip_ReturnsTheNextResults()
    {
        var collection = await FiveHotelsAsync();

        var results = await collection.SearchAsync(new float[] { 1, 0, 0 }, top: 2, new() { Skip = 2 }).ToListAsync();

        Assert.Equal(["h3", "h4"], results.Select(r => r.Record.Id));
    }

    [Fact]
    public async Task Search_TopBeyondTheRecords_ReturnsThemAll()
    {
        var collection = await FiveHotelsAsync();

        var results = await collection.SearchAsync(new float[] { 1, 0, 0 }, top: 50).ToListAsync();

        Assert.Equal(["h1", "h2", "h3", "h4", "h5"], results.Select(r => r.Record.Id));
    }

    [Fact]
    public async Task Search_WithIncludeVectors_ReturnsTheVectors()
    {
        var collection = await FiveHotelsAsync();

        var with = await collection.SearchAsync(new float[] { 1, 0, 0 }, top: 1, new() { IncludeVectors = true }).ToListAsync();
        var without = await collection.SearchAsync(new float[] { 1, 0, 0 }, top: 1).ToListAsync();

        Assert.Equal([1f, 0f, 0f], with[0].Record.Embedding.ToArray());
        Assert.True(without[0].Record.Embedding.IsEmpty);
        Assert.Equal("Hotel h1", without[0].Record.Name);
    }

    [Fact]
    public async Task Search_WithScoreThreshold_DropsLessSimilarResults()
    {
        var collection = await FiveHotelsAsync();

        var results = await collection.SearchAsync(new float[] { 1, 0, 0 }, top: 5, new() { ScoreThreshold = 0.9 }).ToListAsync();

        Assert.Equal(["h1", "h2", "h3"], results.Select(r => r.Record.Id)); // cos(h3) = 0.919, cos(h4) = 0.55
        Assert.All(results, r => Assert.True(r.Score >= 0.9));
    }

    [Fact]
    public async Task Search_WithFilter_ReturnsTopMatchesOnly()
    {
        var collection = await FiveHotelsAsync();

        var results = await collection.SearchAsync(new float[] { 1, 0, 0 }, top: 2, new() { Filter = h => h.Rating >= 3 }).ToListAsync();

        Assert.Equal(["h3", "h4"], results.Select(r => r.Record.Id));
    }

    [Fact]
    public async Task Search_WrongDimension_ThrowsVectorStoreException()
    {
        var collection = await FiveHotelsAsync();

        await Assert.ThrowsAsync<VectorStoreException>(() => collection.SearchAsync(new float[] { 1, 0 }, top: 1).ToListAsync().AsTask());
    }

    [Fact]
    public async Task Search_TopBelowOne_Throws()
    {
        var collection = await FiveHotelsAsync();

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => collection.SearchAsync(new float[] { 1, 0, 0 }, top: 0).ToListAsync().AsTask());
    }

    [Fact]
    public async Task GetWithFilter_ReturnsMatchesUpToTop_AfterSkip()
    {
        var collection = await FiveHotelsAsync();

        var all = await collection.GetAsync(h => h.Rating > 1, top: 10).ToListAsync();
        var page = await collection.GetAsync(h => h.Rating > 1, top: 2, new() { Skip = 1, OrderBy = o => o.Ascending(h => h.Rating) }).ToListAsync();

        Assert.Equal(["h2", "h3", "h4", "h5"], all.Select(h => h.Id).Order());
        Assert.Equal(["h3", "h4"], page.Select(h => h.Id));
    }

    [Fact]
    public async Task GetWithFilter_OrderedDescending_ReturnsHighestFirst()
    {
        var collection = await FiveHotelsAsync();

        var read = await collection.GetAsync(h => true, top: 3, new() { OrderBy = o => o.Descending(h => h.Rating) }).ToListAsync();

        Assert.Equal([5, 4, 3], read.Select(h => h.Rating));
    }

    [Fact]
    public async Task GetWithFilter_OrderedByTwoProperties_UsesTheSecondForTies()
    {
        var collection = await FiveHotelsAsync();

        // Parking: h2, h4 (true) and h1, h3, h5 (false); false sorts first.
        var read = await collection.GetAsync(h => true, top: 5, new() { OrderBy = o => o.Ascending(h => h.Parking).Descending(h => h.Rating) }).ToListAsync();

        Assert.Equal(["h5", "h3", "h1", "h4", "h2"], read.Select(h => h.Id));
    }

    [Fact]
    public async Task GetWithFilter_IncludeVectors_ReturnsTheVectors()
    {
        var collection = await FiveHotelsAsync();

        var read = await collection.GetAsync(h => h.Rating == 5, top: 1, new() { IncludeVectors = true }).ToListAsync();

        Assert.Equal([0f, 1f, 0f], Assert.Single(read).Embedding.ToArray());
    }

    [Fact]
    public async Task Operations_WithACancelledToken_ThrowOperationCanceled_AndWriteNothing()
    {
        var collection = await FiveHotelsAsync();
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => collection.UpsertAsync(Hotel("z", 1, 1, 0, 0), cancelled.Token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => collection.DeleteAsync("h1", cancelled.Token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => collection.GetAsync("h1", cancellationToken: cancelled.Token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => collection.SearchAsync(new float[] { 1, 0, 0 }, top: 1, cancellationToken: cancelled.Token).ToListAsync().AsTask());

        Assert.Null(await collection.GetAsync("z"));
        Assert.NotNull(await collection.GetAsync("h1"));
    }
}
