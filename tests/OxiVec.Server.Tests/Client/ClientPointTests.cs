using System.Net;
using System.Text.Json.Nodes;
using OxiVec.Client;

namespace OxiVec.Server.Tests.Client;

public sealed class ClientPointTests(ClientServer server) : IClassFixture<ClientServer>
{
    private OxiVecClient Client => server.Client;

    private async Task<string> CollectionAsync(string name)
    {
        await Client.CreateCollectionAsync(name, new VectorParams(2, Distance.Dot));
        return name;
    }

    private static PointStruct Point(ulong id, float x, string tag, long n) =>
        new(id, new float[] { x, 1 }, new JsonObject { ["tag"] = tag, ["n"] = n });

    [Fact]
    public async Task Upsert_ThenGetAndRetrieve_ReturnIdsPayloadsAndVectors_Losslessly()
    {
        string c = await CollectionAsync("p_roundtrip");
        Guid uuid = Guid.NewGuid();
        var payload = new JsonObject
        {
            ["text"] = "naïve \"quoted\"",
            ["big"] = 9007199254740993L, // beyond a double's exact integers
            ["pi"] = 3.141592653589793,
            ["none"] = null,
            ["list"] = new JsonArray(1, "two", false),
            ["nested"] = new JsonObject { ["a"] = new JsonObject { ["b"] = 1 } },
        };
        UpdateResult result = await Client.UpsertAsync(c, [new PointStruct(7, new float[] { 0.25f, -1.5f }, payload), new PointStruct(uuid, new float[] { 1, 2 })]);
        Assert.Equal("completed", result.Status);
        Assert.True(result.OperationId > 0);

        RetrievedPoint seven = await Client.GetPointAsync(c, 7);
        Assert.Equal(new PointId(7), seven.Id);
        Assert.Equal([0.25f, -1.5f], seven.Vector!);
        Assert.True(JsonNode.DeepEquals(payload, seven.Payload), seven.Payload?.ToJsonString());

        RetrievedPoint byUuid = await Client.GetPointAsync(c, uuid);
        Assert.True(byUuid.Id.IsUuid);
        Assert.Equal(uuid, byUuid.Id.Uuid);

        IReadOnlyList<RetrievedPoint> many = await Client.RetrieveAsync(c, [7, uuid, 99], withPayload: false, withVector: true);
        Assert.Equal([new PointId(7), new PointId(uuid)], many.Select(p => p.Id));
        Assert.All(many, p => Assert.Null(p.Payload));
        Assert.Equal([1f, 2f], many[1].Vector!);

        IReadOnlyList<RetrievedPoint> payloadsOnly = await Client.RetrieveAsync(c, [7]);
        Assert.NotNull(payloadsOnly[0].Payload);
        Assert.Null(payloadsOnly[0].Vector);
    }

    [Fact]
    public async Task GetPoint_Missing_Throws404_AndUpsertOfAWrongDimension_Throws400NamingThePoint_AndWritesNothing()
    {
        string c = await CollectionAsync("p_errors");
        OxiVecClientException missing = await Assert.ThrowsAsync<OxiVecClientException>(() => Client.GetPointAsync(c, 5));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("Not found: No point with id 5 found", missing.ServerMessage);

        OxiVecClientException bad = await Assert.ThrowsAsync<OxiVecClientException>(() =>
            Client.UpsertAsync(c, [new PointStruct(1, new float[] { 1, 2 }), new PointStruct(2, new float[] { 1, 2, 3 })]));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal("Wrong input: points[1].vector: Vector dimension error: expected dim: 2, got 3.", bad.ServerMessage);
        Assert.Equal("PUT", bad.Method);
        Assert.Equal("/collections/p_errors/points?wait=true", bad.Path);
        Assert.Equal(0, await Client.CountAsync(c));

        OxiVecClientException noCollection = await Assert.ThrowsAsync<OxiVecClientException>(() => Client.UpsertAsync("p_nope", [Point(1, 1, "a", 1)]));
        Assert.Equal(HttpStatusCode.NotFound, noCollection.StatusCode);
    }

    [Fact]
    public async Task Delete_ByIdsAndByFilter_AndCountIsExact()
    {
        string c = await CollectionAsync("p_delete");
        await Client.UpsertAsync(c, [.. Enumerable.Range(1, 6).Select(i => Point((ulong)i, i, i % 2 == 0 ? "even" : "odd", i))], wait: false);
        Assert.Equal(6, await Client.CountAsync(c));
        Assert.Equal(3, await Client.CountAsync(c, Filter.Must(Condition.Match("tag", "even"))));

        await Client.DeleteAsync(c, PointsSelector.ByIds(1, 2, 100));
        Assert.Equal(4, await Client.CountAsync(c));
        await Client.DeleteAsync(c, Filter.Must(Condition.Range("n", gte: 5)));
        Assert.Equal([new PointId(3), new PointId(4)], (await Client.ScrollAsync(c)).Points.Select(p => p.Id));
    }

    [Fact]
    public async Task Scroll_PagesInIdOrder_WithFilterLimitAndNextPageOffset()
    {
        string c = await CollectionAsync("p_scroll");
        await Client.UpsertAsync(c, [.. Enumerable.Range(1, 7).Select(i => Point((ulong)i, i, i % 2 == 0 ? "even" : "odd", i))]);
        var seen = new List<PointId>();
        PointId? offset = null;
        for (int page = 0; page < 10; page++)
        {
            ScrollResult result = await Client.ScrollAsync(c, new ScrollRequest { Filter = Filter.Must(Condition.Match("tag", "odd")), Limit = 3, Offset = offset, WithVector = true });
            Assert.All(result.Points, p => Assert.NotNull(p.Vector));
            Assert.All(result.Points, p => Assert.Equal("odd", (string?)p.Payload!["tag"]));
            seen.AddRange(result.Points.Select(p => p.Id));
            offset = result.NextPageOffset;
            if (offset is null)
            {
                break;
            }
        }

        Assert.Equal([1UL, 3UL, 5UL, 7UL], seen.Select(p => p.Number));
    }

    [Fact]
    public async Task PayloadOperations_SetOverwriteDeleteClear_ByIdsAndByFilter()
    {
        string c = await CollectionAsync("p_payload");
        await Client.UpsertAsync(c, [Point(1, 1, "a", 1), Point(2, 2, "b", 2), Point(3, 3, "b", 3)]);

        await Client.SetPayloadAsync(c, new JsonObject { ["color"] = "red" }, new PointId[] { 1 });
        Assert.Equal("""{"tag":"a","n":1,"color":"red"}""", (await Client.GetPointAsync(c, 1)).Payload!.ToJsonString());

        await Client.OverwritePayloadAsync(c, new JsonObject { ["only"] = true }, new PointId[] { 1 });
        Assert.Equal("""{"only":true}""", (await Client.GetPointAsync(c, 1)).Payload!.ToJsonString());

        await Client.SetPayloadAsync(c, new JsonObject { ["seen"] = 1 }, Filter.Must(Condition.Match("tag", "b")));
        await Client.DeletePayloadAsync(c, ["n"], Filter.Must(Condition.Match("tag", "b")));
        Assert.Equal("""{"tag":"b","seen":1}""", (await Client.GetPointAsync(c, 2)).Payload!.ToJsonString());

        await Client.ClearPayloadAsync(c, new PointId[] { 2 });
        Assert.Equal("{}", (await Client.GetPointAsync(c, 2)).Payload!.ToJsonString());

        OxiVecClientException missing = await Assert.ThrowsAsync<OxiVecClientException>(() =>
            Client.SetPayloadAsync(c, new JsonObject { ["x"] = 1 }, new PointId[] { 3, 42 }));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.False((await Client.GetPointAsync(c, 3)).Payload!.ContainsKey("x")); // nothing half-applied
    }

    [Fact]
    public async Task BatchUpdate_AppliesOperationsInOrder_AsOneTransaction_AndARefusedOneChangesNothing()
    {
        string c = await CollectionAsync("p_batch");
        IReadOnlyList<UpdateResult> results = await Client.BatchUpdateAsync(c,
        [
            UpdateOperation.Upsert(Point(1, 1, "a", 1), Point(2, 2, "a", 2), Point(3, 3, "a", 3)),
            UpdateOperation.Delete(PointsSelector.ByIds(2)),
            UpdateOperation.SetPayload(new JsonObject { ["x"] = 1 }, PointsSelector.ByIds(1)),
            UpdateOperation.OverwritePayload(new JsonObject { ["y"] = 2 }, PointsSelector.ByIds(3)),
            UpdateOperation.DeletePayload(["tag"], PointsSelector.ByIds(1)),
            UpdateOperation.UpdateVectors((new PointId(3), new float[] { 9, 9 })),
        ]);
        Assert.Equal(6, results.Count);
        Assert.Equal("""{"n":1,"x":1}""", (await Client.GetPointAsync(c, 1)).Payload!.ToJsonString());
        RetrievedPoint three = await Client.GetPointAsync(c, 3);
        Assert.Equal("""{"y":2}""", three.Payload!.ToJsonString());
        Assert.Equal([9f, 9f], three.Vector!);
        Assert.Equal(2, await Client.CountAsync(c));

        OxiVecClientException refused = await Assert.ThrowsAsync<OxiVecClientException>(() => Client.BatchUpdateAsync(c,
        [
            UpdateOperation.ClearPayload(PointsSelector.ByIds(1)),
            UpdateOperation.SetPayload(new JsonObject { ["z"] = 1 }, PointsSelector.ByIds(77)),
        ]));
        Assert.Equal(HttpStatusCode.NotFound, refused.StatusCode);
        Assert.Equal("""{"n":1,"x":1}""", (await Client.GetPointAsync(c, 1)).Payload!.ToJsonString());
    }
}
