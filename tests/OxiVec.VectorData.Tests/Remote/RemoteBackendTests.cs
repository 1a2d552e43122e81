using System.Text.Json.Nodes;
using OxiVec.Client;
using OxiVec.Indexing;
using OxiVec.Storage;
using OxiVec.VectorData.Remote;

namespace OxiVec.VectorData.Tests.Remote;

/// <summary>What is particular to the remote back end: how ids and payloads travel, and what it refuses.</summary>
public sealed class RemoteBackendTests(RemoteFixture fixture) : IClassFixture<RemoteFixture>
{
    private IOxiVecBackend Backend => fixture.Backend;

    private async Task<string> CollectionAsync(DistanceMetric metric = DistanceMetric.DotProduct)
    {
        string name = fixture.NewCollectionName("remote");
        Assert.True(await Backend.CreateCollectionAsync(name, new CollectionOptions(2) { Metric = metric }));
        return name;
    }

    private static VectorRecord Record(string id, params (string Key, MetadataValue Value)[] fields) =>
        new(id, new float[] { 1, 2 }, fields.ToDictionary(f => f.Key, f => f.Value));

    [Fact]
    public async Task Ids_IntegersAndGuidsAreNativePointIds_OtherStringsAreHashedUuidsCarryingTheKey_AndAllReadBackExactly()
    {
        string c = await CollectionAsync();
        string guid = Guid.NewGuid().ToString("D");
        string[] ids = ["42", guid, "a", "-5", "007", guid.ToUpperInvariant(), "00000000-0000-8000-8000-000000000000", "18446744073709551616"];
        await Backend.UpsertAsync(c, [.. ids.Select(id => Record(id))]);

        Assert.Equal(ids.Order(StringComparer.Ordinal), (await Backend.GetAsync(c, ids, includeVectors: false)).Select(r => r.Id).Order(StringComparer.Ordinal));
        Assert.Equal(ids.Length, (await Backend.ScrollAsync(c, null, null, 100, includeVectors: false)).Count);

        // What a Qdrant client sees: 42 and the Guid as themselves, the rest as version-8 UUIDs with the key in the payload.
        ScrollResult raw = await fixture.Client.ScrollAsync(c, new ScrollRequest { Limit = 100 });
        Assert.Contains(raw.Points, p => p.Id == new PointId(42) && !p.Payload!.ContainsKey(RemoteIds.KeyField));
        Assert.Contains(raw.Points, p => p.Id == new PointId(Guid.Parse(guid)) && !p.Payload!.ContainsKey(RemoteIds.KeyField));
        RetrievedPoint[] hashed = [.. raw.Points.Where(p => p.Payload!.ContainsKey(RemoteIds.KeyField))];
        Assert.Equal(ids.Length - 2, hashed.Length);
        Assert.All(hashed, p => Assert.Equal(8, p.Id.Uuid.Version));
        Assert.Equal(ids.Skip(2).Order(StringComparer.Ordinal), hashed.Select(p => (string)p.Payload![RemoteIds.KeyField]!).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Ids_HashedOnes_WorkInDeleteAndHasIdFilters()
    {
        string c = await CollectionAsync();
        await Backend.UpsertAsync(c, [Record("a"), Record("b"), Record("c")]);
        IReadOnlyList<VectorRecord> chosen = await Backend.ScrollAsync(c, MetadataFilter.HasId(["a", "c"]), null, 10, includeVectors: false);
        Assert.Equal(["a", "c"], chosen.Select(r => r.Id).Order(StringComparer.Ordinal));
        await Backend.DeleteAsync(c, ["a", "nothing"]);
        Assert.Equal(["b", "c"], (await Backend.ScrollAsync(c, null, null, 10, includeVectors: false)).Select(r => r.Id).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Payload_EveryMetadataKind_RoundTrips_WithADoubleStayingADouble()
    {
        string c = await CollectionAsync(DistanceMetric.Cosine);
        var record = new VectorRecord("1", new float[] { 3, 4 }, new Dictionary<string, MetadataValue>
        {
            ["s"] = "text",
            ["l"] = 3L,
            ["d"] = 3.0,
            ["big"] = long.MaxValue,
            ["b"] = true,
            ["n"] = MetadataValue.Null,
            ["sl"] = new[] { "x", "y" },
            ["list"] = MetadataValue.FromList([1L, "two", MetadataValue.Null]),
            ["obj"] = MetadataValue.FromObject([new("k", 1.5)]),
        });
        await Backend.UpsertAsync(c, [record]);

        VectorRecord read = Assert.Single(await Backend.GetAsync(c, ["1"], includeVectors: true));
        Assert.Equal([3f, 4f], read.Vector.ToArray()); // as written, though the collection is Cosine
        Assert.Equal(record.Metadata.Count, read.Metadata.Count);
        foreach ((string key, MetadataValue value) in record.Metadata)
        {
            Assert.Equal(value.Kind, read.Metadata[key].Kind);
            Assert.Equal(value, read.Metadata[key]);
        }
    }

    [Fact]
    public async Task Scroll_PastOnePage_ReturnsEveryRecordOnce_InTheServersIdOrder()
    {
        string c = await CollectionAsync();
        await Backend.UpsertAsync(c, [.. Enumerable.Range(0, 2500).Select(i => Record(i.ToString(System.Globalization.CultureInfo.InvariantCulture)))]);
        IReadOnlyList<VectorRecord> all = await Backend.ScrollAsync(c, null, null, 5000, includeVectors: false);
        Assert.Equal(Enumerable.Range(0, 2500).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)), all.Select(r => r.Id));
        IReadOnlyList<VectorRecord> from = await Backend.ScrollAsync(c, null, "2400", 1500, includeVectors: false);
        Assert.Equal(100, from.Count);
        Assert.Equal("2400", from[0].Id);
    }

    [Fact]
    public async Task Refusals_ReservedField_EmptyId_UnknownCollection_BigLongRanges_AndHnswParametersTheServerCannotTake()
    {
        string c = await CollectionAsync();
        await Assert.ThrowsAsync<ArgumentException>(() => Backend.UpsertAsync(c, [Record("1", (RemoteIds.KeyField, "x"))]));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Backend.UpsertAsync(c, [Record("")]));
        await Assert.ThrowsAsync<KeyNotFoundException>(() => Backend.UpsertAsync("remote-none", [Record("1")]));
        Assert.Null(await Backend.GetCollectionAsync("remote-none"));
        await Assert.ThrowsAsync<NotSupportedException>(() =>
            Backend.ScrollAsync(c, MetadataFilter.Compare("n", FilterOperator.GreaterThan, long.MaxValue - 1), null, 10, includeVectors: false));
        await Assert.ThrowsAsync<NotSupportedException>(() =>
            Backend.CreateCollectionAsync(fixture.NewCollectionName("remote"), new CollectionOptions(2) { Hnsw = new HnswParameters { Seed = 7 } }));
        await Assert.ThrowsAsync<ArgumentException>(() => Backend.UpsertAsync(c, [new VectorRecord("9", new float[] { 1, 2, 3 }, new Dictionary<string, MetadataValue>())]));
    }

    [Fact]
    public async Task Collections_CreateTwice_IsFalse_AndOptionsReadBack()
    {
        string name = fixture.NewCollectionName("remote");
        var options = new CollectionOptions(3) { Metric = DistanceMetric.Euclidean, Index = IndexKind.Flat };
        Assert.True(await Backend.CreateCollectionAsync(name, options));
        Assert.False(await Backend.CreateCollectionAsync(name, options));
        CollectionOptions? read = await Backend.GetCollectionAsync(name);
        Assert.Equal(options, read);
        Assert.Contains(name, await Backend.ListCollectionsAsync());
        Assert.True(await Backend.DropCollectionAsync(name));
        Assert.False(await Backend.DropCollectionAsync(name));
    }
}
