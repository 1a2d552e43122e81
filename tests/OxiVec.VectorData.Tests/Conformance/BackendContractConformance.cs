using OxiVec.Indexing;
using OxiVec.Storage;
using OxiVec.VectorData.Tests.Support;

namespace OxiVec.VectorData.Tests.Conformance;

/// <summary>
/// The <see cref="IOxiVecBackend"/> contract itself, below the provider: collection calls, exact metadata kinds,
/// all-or-none upserts, id-order scrolls, natural scores, missing collections, and every filter record the provider
/// builds (so a back end's translation of each is checked on its own).
/// </summary>
public abstract class BackendContractConformance(BackendFixture fixture)
{
    protected BackendFixture Fixture { get; } = fixture;

    private IOxiVecBackend Backend => Fixture.Backend;

    private static Dictionary<string, MetadataValue> Fields(long n, string s, bool b, double d, string[] tags, params long[] numbers) => new()
    {
        ["n"] = n,
        ["s"] = s,
        ["b"] = b,
        ["d"] = d,
        ["tags"] = tags,
        ["numbers"] = MetadataValue.FromList(numbers.Select(x => MetadataValue.From(x))),
        ["nothing"] = MetadataValue.Null,
    };

    private async Task<string> SeededAsync(DistanceMetric metric = DistanceMetric.Euclidean)
    {
        string name = Fixture.NewCollectionName("contract");
        Assert.True(await Backend.CreateCollectionAsync(name, new CollectionOptions(2) { Metric = metric, Index = Storage.IndexKind.Flat }));
        await Backend.UpsertAsync(name,
        [
            new VectorRecord("1", new float[] { 1, 0 }, Fields(1, "one", true, 1.5, ["a", "b"], 1, 2)),
            new VectorRecord("2", new float[] { 2, 0 }, Fields(2, "two", false, 2.5, ["b"], 2)),
            new VectorRecord("10", new float[] { 10, 0 }, Fields(10, "ten", true, -1, [], 10)),
            new VectorRecord("x", new float[] { 0, 5 }, Fields(9_007_199_254_740_993, "' OR 1=1 --", false, 0, ["c"])),
        ]);
        return name;
    }

    private async Task<string[]> MatchingAsync(string collection, MetadataFilter filter)
    {
        string[] scrolled = [.. (await Backend.ScrollAsync(collection, filter, null, 100, includeVectors: false)).Select(r => r.Id).Order(StringComparer.Ordinal)];
        string[] searched = [.. (await Backend.SearchAsync(collection, new float[] { 0, 0 }, 100, filter, includeVectors: false)).Select(r => r.Record.Id).Order(StringComparer.Ordinal)];
        Assert.Equal(scrolled, searched);
        return scrolled;
    }

    [Fact]
    public async Task Collections_CreateGetListAndDrop()
    {
        string name = Fixture.NewCollectionName("contract");
        var options = new CollectionOptions(3) { Metric = DistanceMetric.DotProduct, Index = Storage.IndexKind.Hnsw };

        Assert.Null(await Backend.GetCollectionAsync(name));
        Assert.True(await Backend.CreateCollectionAsync(name, options));
        Assert.False(await Backend.CreateCollectionAsync(name, options));
        CollectionOptions? read = await Backend.GetCollectionAsync(name);
        Assert.Contains(name, await Backend.ListCollectionsAsync());
        Assert.True(await Backend.DropCollectionAsync(name));
        Assert.False(await Backend.DropCollectionAsync(name));

        Assert.Equal(3, read!.Dimension);
        Assert.Equal(DistanceMetric.DotProduct, read.Metric);
        Assert.Equal(Storage.IndexKind.Hnsw, read.Index);
        Assert.DoesNotContain(name, await Backend.ListCollectionsAsync());
    }

    [Fact]
    public async Task Get_ReturnsEveryMetadataKindExactly_AndSkipsMissingIds()
    {
        string name = await SeededAsync();

        var records = await Backend.GetAsync(name, ["x", "missing", "1"], includeVectors: true);

        VectorRecord one = Assert.Single(records, r => r.Id == "1");
        VectorRecord x = Assert.Single(records, r => r.Id == "x");
        Assert.Equal(2, records.Count);
        Assert.Equal([1f, 0f], one.Vector.ToArray());
        Assert.Equal(MetadataValue.From(1L), one.Metadata["n"]);
        Assert.Equal(MetadataValue.From(1.5), one.Metadata["d"]);
        Assert.Equal(MetadataValue.From(true), one.Metadata["b"]);
        Assert.Equal(MetadataValue.From(["a", "b"]), one.Metadata["tags"]);
        Assert.Equal(MetadataKind.List, one.Metadata["numbers"].Kind);
        Assert.Equal([1L, 2L], one.Metadata["numbers"].AsList.Select(v => v.AsLong));
        Assert.True(one.Metadata["nothing"].IsNull);
        Assert.Equal(9_007_199_254_740_993, x.Metadata["n"].AsLong);
        Assert.Equal("' OR 1=1 --", x.Metadata["s"].AsString);
        Assert.Equal(MetadataKind.Double, x.Metadata["d"].Kind); // 0.0 stays a double
    }

    [Fact]
    public async Task Upsert_WithOneBadRecord_WritesNone()
    {
        string name = await SeededAsync();

        await Assert.ThrowsAnyAsync<Exception>(() => Backend.UpsertAsync(name,
        [
            new VectorRecord("new", new float[] { 3, 3 }, new Dictionary<string, MetadataValue>()),
            new VectorRecord("1", new float[] { 1, 2, 3 }, new Dictionary<string, MetadataValue>()),
        ]));

        Assert.Empty(await Backend.GetAsync(name, ["new"], includeVectors: false));
        Assert.Equal("one", (await Backend.GetAsync(name, ["1"], includeVectors: false))[0].Metadata["s"].AsString);
    }

    [Fact]
    public async Task Delete_RemovesGivenIds_AndSkipsMissingOnes()
    {
        string name = await SeededAsync();

        await Backend.DeleteAsync(name, ["1", "missing", "10"]);

        Assert.Equal(["2", "x"], (await Backend.GetAsync(name, ["1", "2", "10", "x"], includeVectors: false)).Select(r => r.Id).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Scroll_GoesInIdOrder_FromAnIdInclusive()
    {
        string name = await SeededAsync();

        var first = await Backend.ScrollAsync(name, null, null, 2, includeVectors: false);
        var rest = await Backend.ScrollAsync(name, null, "10", 10, includeVectors: true);

        Assert.Equal(["1", "2"], first.Select(r => r.Id)); // numeric ids first, by value
        Assert.Equal(["10", "x"], rest.Select(r => r.Id));
        Assert.Equal([0f, 5f], rest[1].Vector.ToArray());
    }

    [Fact]
    public async Task Search_ReturnsTheMetricsNaturalScore_BestFirst()
    {
        string euclidean = await SeededAsync();
        string cosine = await SeededAsync(DistanceMetric.Cosine);

        var byDistance = await Backend.SearchAsync(euclidean, new float[] { 2, 0 }, 2, null, includeVectors: true);
        var bySimilarity = await Backend.SearchAsync(cosine, new float[] { 0, 1 }, 1, null, includeVectors: false);

        Assert.Equal(["2", "1"], byDistance.Select(h => h.Record.Id));
        Assert.Equal([0f, 1f], byDistance.Select(h => h.Score));
        Assert.Equal([2f, 0f], byDistance[0].Record.Vector.ToArray());
        Assert.Equal("x", bySimilarity[0].Record.Id);
        Assert.Equal(1f, bySimilarity[0].Score, 5);
        Assert.Equal("' OR 1=1 --", bySimilarity[0].Record.Metadata["s"].AsString);
    }

    [Fact]
    public async Task MissingCollection_ThrowsKeyNotFound()
    {
        string name = Fixture.NewCollectionName("absent");

        await Assert.ThrowsAsync<KeyNotFoundException>(() => Backend.GetAsync(name, ["1"], includeVectors: false));
        await Assert.ThrowsAsync<KeyNotFoundException>(() => Backend.UpsertAsync(name, [new VectorRecord("1", new float[] { 1, 0 }, new Dictionary<string, MetadataValue>())]));
        await Assert.ThrowsAsync<KeyNotFoundException>(() => Backend.DeleteAsync(name, ["1"]));
        await Assert.ThrowsAsync<KeyNotFoundException>(() => Backend.SearchAsync(name, new float[] { 1, 0 }, 1, null, includeVectors: false));
        await Assert.ThrowsAsync<KeyNotFoundException>(() => Backend.ScrollAsync(name, null, null, 1, includeVectors: false));
    }

    public static TheoryData<string, string[]> Filters() => new()
    {
        // name of the filter below, the ids it matches
        { "n = 2", ["2"] },
        { "n < 10", ["1", "2"] },
        { "n <= 10", ["1", "10", "2"] },
        { "n > 2", ["10", "x"] },
        { "n >= 2", ["10", "2", "x"] },
        { "n = 9007199254740993", ["x"] },
        { "n = 9007199254740992", [] },
        { "d = 2.5", ["2"] },
        { "d < 1.5", ["10", "x"] },
        { "d >= 1.5", ["1", "2"] },
        { "s = injection", ["x"] },
        { "s = 'one'", ["1"] },
        { "b = true", ["1", "10"] },
        { "nothing = null", ["1", "10", "2", "x"] },
        { "s = null", [] },
        { "not n = 2", ["1", "10", "x"] },
        { "n in [1, 10]", ["1", "10"] },
        { "s in ['two', null]", ["2"] },
        { "tags has b", ["1", "2"] },
        { "tags has c or a", ["1", "x"] },
        { "numbers has 2", ["1", "2"] },
        { "id in [2, x]", ["2", "x"] },
        { "always", ["1", "10", "2", "x"] },
        { "never", [] },
        { "n > 1 and b = true", ["10"] },
        { "n = 1 or s = 'two'", ["1", "2"] },
    };

    private static MetadataFilter Filter(string name) => name switch
    {
        "n = 2" => MetadataFilter.Equal("n", 2L),
        "n < 10" => MetadataFilter.Compare("n", FilterOperator.LessThan, 10L),
        "n <= 10" => MetadataFilter.Compare("n", FilterOperator.LessThanOrEqual, 10L),
        "n > 2" => MetadataFilter.Compare("n", FilterOperator.GreaterThan, 2L),
        "n >= 2" => MetadataFilter.Compare("n", FilterOperator.GreaterThanOrEqual, 2L),
        "n = 9007199254740993" => MetadataFilter.Equal("n", 9_007_199_254_740_993L),
        "n = 9007199254740992" => MetadataFilter.Equal("n", 9_007_199_254_740_992L),
        "d = 2.5" => MetadataFilter.Equal("d", 2.5),
        "d < 1.5" => MetadataFilter.Compare("d", FilterOperator.LessThan, 1.5),
        "d >= 1.5" => MetadataFilter.Compare("d", FilterOperator.GreaterThanOrEqual, 1.5),
        "s = injection" => MetadataFilter.Equal("s", "' OR 1=1 --"),
        "s = 'one'" => MetadataFilter.Equal("s", "one"),
        "b = true" => MetadataFilter.Equal("b", true),
        "nothing = null" => MetadataFilter.Equal("nothing", MetadataValue.Null),
        "s = null" => MetadataFilter.Equal("s", MetadataValue.Null),
        "not n = 2" => MetadataFilter.Not(MetadataFilter.Equal("n", 2L)),
        "n in [1, 10]" => new MetadataFilter.InList("n", [1L, 10L]),
        "s in ['two', null]" => new MetadataFilter.InList("s", ["two", MetadataValue.Null]),
        "tags has b" => MetadataFilter.MatchAny("tags", "b"),
        "tags has c or a" => MetadataFilter.MatchAny("tags", "c", "a"),
        "numbers has 2" => MetadataFilter.MatchAny("numbers", 2L),
        "id in [2, x]" => MetadataFilter.HasId(["2", "x"]),
        "always" => MetadataFilter.Always,
        "never" => MetadataFilter.Never,
        "n > 1 and b = true" => MetadataFilter.And(MetadataFilter.Compare("n", FilterOperator.GreaterThan, 1L), MetadataFilter.Equal("b", true)),
        "n = 1 or s = 'two'" => MetadataFilter.Or(MetadataFilter.Equal("n", 1L), MetadataFilter.Equal("s", "two")),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "No such filter."),
    };

    [Theory]
    [MemberData(nameof(Filters))]
    public async Task EachFilterTheProviderBuilds_MatchesTheSameRecordsInScrollAndSearch(string filter, string[] expected)
    {
        string name = await SeededAsync();

        Assert.Equal(expected, await MatchingAsync(name, Filter(filter)));
    }
}
