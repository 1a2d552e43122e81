using System.Net;
using System.Text.Json;

namespace OxiVec.Server.Tests.Qdrant;

public sealed class PayloadApiTests(QdrantServer server) : IClassFixture<QdrantServer>
{
    private HttpClient Http => server.Http;

    private async Task<JsonElement> PayloadAsync(string collection, int id) =>
        (await Http.GetJsonAsync($"/collections/{collection}/points/{id}")).Expect(HttpStatusCode.OK).Result.GetProperty("payload");

    [Fact]
    public async Task SetOverwriteDeleteClear_ChangeOnlyThePayload_EachWithItsLsn()
    {
        await Http.CreateAsync("pl_ops");
        await Http.UpsertAsync("pl_ops", """[{"id": 1, "vector": [1, 0, 0], "payload": {"a": 1, "b": "x"}}, {"id": 2, "vector": [0, 1, 0], "payload": {"a": 2}}]""");

        Answer set = (await Http.PostJsonAsync("/collections/pl_ops/points/payload?wait=true", """{"payload": {"b": "y", "c": [ "t1", "t2" ]}, "points": [1]}""")).Expect(HttpStatusCode.OK);
        Assert.True(set.Lsn > 0);
        Assert.Equal("""{"a":1,"b":"y","c":["t1","t2"]}""", Canonical(await PayloadAsync("pl_ops", 1)));

        Answer overwrite = (await Http.PutJsonAsync("/collections/pl_ops/points/payload", """{"payload": {"only": true}, "points": [1]}""")).Expect(HttpStatusCode.OK);
        Assert.True(overwrite.Lsn > set.Lsn);
        Assert.Equal("""{"only":true}""", Canonical(await PayloadAsync("pl_ops", 1)));

        Answer delete = (await Http.PostJsonAsync("/collections/pl_ops/points/payload/delete", """{"keys": ["a", "zz"], "points": [2]}""")).Expect(HttpStatusCode.OK);
        Assert.True(delete.Lsn > overwrite.Lsn);
        Assert.Equal("{}", Canonical(await PayloadAsync("pl_ops", 2)));

        Answer clear = (await Http.PostJsonAsync("/collections/pl_ops/points/payload/clear", """{"points": [1]}""")).Expect(HttpStatusCode.OK);
        Assert.True(clear.Lsn > delete.Lsn);
        Assert.Equal("{}", Canonical(await PayloadAsync("pl_ops", 1)));
        Assert.Equal([1f, 0f, 0f], (await Http.GetJsonAsync("/collections/pl_ops/points/1")).Result.GetProperty("vector").EnumerateArray().Select(v => v.GetSingle()));
    }

    [Fact]
    public async Task SetPayload_ByFilter_ChangesExactlyTheMatchingPoints()
    {
        await Http.CreateAsync("pl_filter");
        await Http.UpsertAsync("pl_filter", """[{"id": 1, "vector": [1, 0, 0], "payload": {"g": "a"}}, {"id": 2, "vector": [0, 1, 0], "payload": {"g": "b"}}, {"id": 3, "vector": [0, 0, 1], "payload": {"g": "a"}}]""");
        (await Http.PostJsonAsync("/collections/pl_filter/points/payload", """{"payload": {"seen": 1}, "filter": {"must": [{"key": "g", "match": {"value": "a"}}]}}""")).Expect(HttpStatusCode.OK);
        Assert.Equal(1, (await PayloadAsync("pl_filter", 1)).GetProperty("seen").GetInt32());
        Assert.False((await PayloadAsync("pl_filter", 2)).TryGetProperty("seen", out _));
        Assert.Equal(1, (await PayloadAsync("pl_filter", 3)).GetProperty("seen").GetInt32());
    }

    [Fact]
    public async Task SetPayload_NestedValues_RoundTrip_AndHasIdSelectsByFilter()
    {
        await Http.CreateAsync("pl_nested");
        await Http.UpsertAsync("pl_nested", """[{"id": 1, "vector": [1, 0, 0]}, {"id": 2, "vector": [0, 1, 0]}]""");
        (await Http.PostJsonAsync("/collections/pl_nested/points/payload", """{"payload": {"meta": {"x": [1, "a", null], "y": {"z": 2.5}}}, "filter": {"must": [{"has_id": [2]}]}}""")).Expect(HttpStatusCode.OK);
        Assert.Equal("""{"meta":{"x":[1,"a",null],"y":{"z":2.5}}}""", Canonical(await PayloadAsync("pl_nested", 2)));
        Assert.Equal("{}", Canonical(await PayloadAsync("pl_nested", 1)));
        (await Http.PostJsonAsync("/collections/pl_nested/points/delete", """{"filter": {"must_not": [{"has_id": [2]}]}}""")).Expect(HttpStatusCode.OK);
        Assert.Equal(["2"], (await Http.StateAsync("pl_nested")).Keys);
    }

    [Theory]
    [InlineData("POST", "/payload", """{"payload": {"x": 1}, "points": [1, 404]}""")]
    [InlineData("PUT", "/payload", """{"payload": {"x": 1}, "points": [404]}""")]
    [InlineData("POST", "/payload/delete", """{"keys": ["a"], "points": [404, 1]}""")]
    [InlineData("POST", "/payload/clear", """{"points": [1, 404]}""")]
    public async Task PayloadOperation_OnAMissingPoint_Answers404_AndChangesNothing(string method, string path, string body)
    {
        string name = "pl_missing_" + path.Replace("/", "_", StringComparison.Ordinal) + method;
        await Http.CreateAsync(name);
        await Http.UpsertAsync(name, """[{"id": 1, "vector": [1, 0, 0], "payload": {"a": 1}}]""");
        SortedDictionary<string, string> before = await Http.StateAsync(name);
        Answer answer = (await Http.SendAsync(new HttpMethod(method), $"/collections/{name}/points{path}", body)).Expect(HttpStatusCode.NotFound);
        Assert.Equal("Not found: No point with id 404 found", answer.Error);
        Assert.Equal(before, await Http.StateAsync(name));
    }

    [Theory]
    [InlineData("/payload", """{"payload": {"x": 1}, "points": [1], "key": "nested"}""", "key")]
    [InlineData("/payload", """{"points": [1]}""", "payload")]
    [InlineData("/payload", """{"payload": {"x": 1}}""", "either points")]
    [InlineData("/payload/delete", """{"keys": ["a.b"], "points": [1]}""", "nested")]
    [InlineData("/payload/delete", """{"points": [1]}""", "keys")]
    public async Task PayloadOperation_WithABadBody_Answers400NamingTheField(string path, string body, string named)
    {
        string name = "pl_bad_" + Guid.NewGuid().ToString("N");
        await Http.CreateAsync(name);
        Answer answer = (await Http.PostJsonAsync($"/collections/{name}/points{path}", body)).Expect(HttpStatusCode.BadRequest);
        Assert.Contains(named, answer.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Batch_AppliesOperationsInOrderAsOneTransaction()
    {
        await Http.CreateAsync("pl_batch");
        await Http.UpsertAsync("pl_batch", """[{"id": 9, "vector": [1, 1, 1], "payload": {"old": true}}]""");
        string body = """
            {"operations": [
                {"upsert": {"points": [{"id": 1, "vector": [1, 0, 0], "payload": {"a": 1}}, {"id": 2, "vector": [0, 1, 0]}]}},
                {"set_payload": {"payload": {"b": 2}, "points": [1]}},
                {"overwrite_payload": {"payload": {"c": 3}, "points": [2]}},
                {"delete_payload": {"keys": ["a"], "points": [1]}},
                {"update_vectors": {"points": [{"id": 2, "vector": [0, 0, 5]}]}},
                {"clear_payload": {"points": [9]}},
                {"delete": {"filter": {"must": [{"key": "c", "match": {"value": 3}}]}}}
            ]}
            """;
        Answer answer = (await Http.PostJsonAsync("/collections/pl_batch/points/batch?wait=true", body)).Expect(HttpStatusCode.OK);
        Assert.Equal(7, answer.Result.GetArrayLength());
        Assert.All(answer.Result.EnumerateArray(), r => Assert.Equal(answer.Lsn, r.GetProperty("operation_id").GetInt64()));

        Assert.Equal(["1", "9"], (await Http.StateAsync("pl_batch")).Keys);
        Assert.Equal("""{"b":2}""", Canonical(await PayloadAsync("pl_batch", 1)));
        Assert.Equal("{}", Canonical(await PayloadAsync("pl_batch", 9)));
    }

    [Theory]
    [InlineData("""{"set_payload": {"payload": {"x": 1}, "points": [404]}}""", HttpStatusCode.NotFound, "404")]
    [InlineData("""{"upsert": {"points": [{"id": 5, "vector": [1, 0]}]}}""", HttpStatusCode.BadRequest, "operations[1].upsert.points[0].vector")]
    [InlineData("""{"delete_vectors": {"points": [1], "vector": [""]}}""", HttpStatusCode.BadRequest, "delete_vectors")]
    [InlineData("""{"frobnicate": {}}""", HttpStatusCode.BadRequest, "frobnicate")]
    [InlineData("""{"upsert": {"points": []}, "delete": {"points": [1]}}""", HttpStatusCode.BadRequest, "operations[1]")]
    public async Task Batch_WithARefusedOperation_ChangesNothing(string refused, HttpStatusCode status, string named)
    {
        string name = $"pl_batch_refused_{(int)status}_{named.Length}";
        await Http.CreateAsync(name);
        await Http.UpsertAsync(name, """[{"id": 1, "vector": [1, 0, 0], "payload": {"a": 1}}]""");
        SortedDictionary<string, string> before = await Http.StateAsync(name);
        string body = $$$"""{"operations": [{"upsert": {"points": [{"id": 2, "vector": [0, 1, 0]}]}}, {{{refused}}}, {"delete": {"points": [1]}}]}""";
        Answer answer = (await Http.PostJsonAsync($"/collections/{name}/points/batch", body)).Expect(status);
        Assert.Contains(named, answer.Error, StringComparison.Ordinal);
        Assert.Equal(before, await Http.StateAsync(name));
    }

    internal static string Canonical(JsonElement element) =>
        element.ValueKind == JsonValueKind.Object
            ? "{" + string.Join(",", element.EnumerateObject().OrderBy(p => p.Name, StringComparer.Ordinal).Select(p => $"\"{p.Name}\":{Canonical(p.Value)}")) + "}"
            : element.ValueKind == JsonValueKind.Array
                ? "[" + string.Join(",", element.EnumerateArray().Select(Canonical)) + "]"
                : element.GetRawText();
}
