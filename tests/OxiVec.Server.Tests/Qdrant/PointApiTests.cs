using System.Net;
using System.Text.Json;

namespace OxiVec.Server.Tests.Qdrant;

public sealed class PointApiTests(QdrantServer server) : IClassFixture<QdrantServer>
{
    private const string Uuid = "5c56c793-69f3-4fbf-87e6-c4bf54c28c26";

    private HttpClient Http => server.Http;

    [Fact]
    public async Task Upsert_PointsAndBatchForms_StoreIdsVectorsPayloads_AndReportTheLsn()
    {
        await Http.CreateAsync("p_forms");
        Answer first = await Http.UpsertAsync("p_forms", $$$"""[{"id": 1, "vector": [1, 0, 0], "payload": {"city": "Berlin"}}, {"id": "{{{Uuid}}}", "vector": [0, 1, 0]}]""");
        Assert.Equal("completed", first.Result.GetProperty("status").GetString());
        Assert.Equal(first.Lsn, first.Result.GetProperty("operation_id").GetInt64());
        Assert.True(first.Lsn > 0);

        Answer second = (await Http.PutJsonAsync("/collections/p_forms/points?wait=false", """{"batch": {"ids": [7, 8], "vectors": [[0, 0, 1], [1, 1, 1]], "payloads": [{"n": 7}, null]}}""")).Expect(HttpStatusCode.OK);
        Assert.True(second.Lsn > first.Lsn);

        JsonElement seven = (await Http.GetJsonAsync("/collections/p_forms/points/7")).Expect(HttpStatusCode.OK).Result;
        Assert.Equal(7UL, seven.GetProperty("id").GetUInt64());
        Assert.Equal(7, seven.GetProperty("payload").GetProperty("n").GetInt32());
        Assert.Equal([0f, 0f, 1f], seven.GetProperty("vector").EnumerateArray().Select(v => v.GetSingle()));
        JsonElement uuid = (await Http.GetJsonAsync($"/collections/p_forms/points/{Uuid.ToUpperInvariant()}")).Expect(HttpStatusCode.OK).Result;
        Assert.Equal(Uuid, uuid.GetProperty("id").GetString());
        Assert.Equal(4, (await Http.PostJsonAsync("/collections/p_forms/points/count", "{}")).Expect(HttpStatusCode.OK).Result.GetProperty("count").GetInt32());
    }

    [Theory]
    [InlineData("""{"points": [{"id": 10, "vector": [1, 0, 0]}, {"id": 11, "vector": [1, 0]}]}""", "points[1].vector")]
    [InlineData("""{"points": [{"id": 10, "vector": [1, 0, 0]}, {"id": -1, "vector": [1, 0, 0]}]}""", "points[1].id")]
    [InlineData("""{"points": [{"id": 10, "vector": [1, 0, 0]}, {"id": "x", "vector": [1, 0, 0]}]}""", "points[1].id")]
    [InlineData("""{"points": [{"id": 10, "vector": [1, 0, 0]}, {"id": 11, "vector": [1, "a", 0]}]}""", "points[1].vector[1]")]
    [InlineData("""{"points": [{"id": 10, "vector": [1, 0, 0]}, {"id": 11, "vector": [1e39, 0, 0]}]}""", "points[1].vector[0]")]
    [InlineData("""{"points": [{"id": 10, "vector": [1, 0, 0]}, {"id": 11, "vector": {"image": [1, 0, 0]}}]}""", "named")]
    [InlineData("""{"points": [{"id": 10, "vector": [1, 0, 0]}, {"id": 11, "vector": [[1, 0, 0]]}]}""", "multivector")]
    [InlineData("""{"points": [{"id": 10, "vector": [1, 0, 0]}, {"id": 11, "vector": [1, 0, 0], "payload": [1]}]}""", "points[1].payload")]
    [InlineData("""{"points": [{"id": 10, "vector": [1, 0, 0]}, {"id": 11}]}""", "points[1].vector")]
    [InlineData("""{"points": [{"id": 10, "vector": [1, 0, 0]}], "update_filter": {"must": []}}""", "update_filter")]
    [InlineData("""{"points": [{"id": 10, "vector": [1, 0, 0]}], "shard_key": "a"}""", "shard_key")]
    [InlineData("""{"batch": {"ids": [10, 11], "vectors": [[1, 0, 0]]}}""", "same length")]
    [InlineData("""{"batch": {"ids": [10], "vectors": {"a": [[1, 0, 0]]}}}""", "named vectors")]
    [InlineData("""{"points": [{"id": 10, "vector": [1, 0, 0]}], "batch": {"ids": [], "vectors": []}}""", "either points")]
    [InlineData("""{}""", "either points")]
    [InlineData("""{"points": [""", "not valid JSON")]
    public async Task Upsert_ARejectedBatch_Answers400NamingTheField_AndChangesNothing(string body, string named)
    {
        await Http.CreateAsync("p_reject");
        await Http.UpsertAsync("p_reject", """[{"id": 10, "vector": [0, 0, 1], "payload": {"v": "before"}}]""");
        SortedDictionary<string, string> before = await Http.StateAsync("p_reject");

        Answer answer = (await Http.PutJsonAsync("/collections/p_reject/points", body)).Expect(HttpStatusCode.BadRequest);
        Assert.Contains(named, answer.Error, StringComparison.Ordinal);

        Assert.Equal(before, await Http.StateAsync("p_reject"));
        await Http.DeleteJsonAsync("/collections/p_reject");
    }

    [Fact]
    public async Task Upsert_TooManyPoints_Answers400NamingMaxPointsPerRequest()
    {
        await Http.CreateAsync("p_many");
        string points = string.Join(", ", Enumerable.Range(0, 51).Select(i => $$"""{"id": {{i}}, "vector": [1, 0, 0]}"""));
        Answer answer = (await Http.PutJsonAsync("/collections/p_many/points", $$"""{"points": [{{points}}]}""")).Expect(HttpStatusCode.BadRequest);
        Assert.Contains("MaxPointsPerRequest (50)", answer.Error, StringComparison.Ordinal);
        Assert.Equal(0, (await Http.PostJsonAsync("/collections/p_many/points/count", "{}")).Result.GetProperty("count").GetInt32());
    }

    [Theory]
    [InlineData("?wait=maybe", "wait")]
    [InlineData("?ordering=fast", "ordering")]
    public async Task Upsert_WithABadQueryParameter_Answers400NamingIt(string query, string named)
    {
        await Http.CreateAsync($"p_q_{named}");
        Answer answer = (await Http.PutJsonAsync($"/collections/p_q_{named}/points{query}", """{"points": [{"id": 1, "vector": [1, 0, 0]}]}""")).Expect(HttpStatusCode.BadRequest);
        Assert.Contains(named, answer.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetOne_UnknownPoint_Answers404_AndABadId400()
    {
        await Http.CreateAsync("p_get");
        Assert.Equal("Not found: No point with id 5 found", (await Http.GetJsonAsync("/collections/p_get/points/5")).Expect(HttpStatusCode.NotFound).Error);
        Assert.Contains("id", (await Http.GetJsonAsync("/collections/p_get/points/not-an-id")).Expect(HttpStatusCode.BadRequest).Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Retrieve_SelectsPayloadKeysAndVectors_AndSkipsMissingIds()
    {
        await Http.CreateAsync("p_retrieve");
        await Http.UpsertAsync("p_retrieve", """[{"id": 1, "vector": [1, 0, 0], "payload": {"a": 1, "b": "x", "c": true}}, {"id": 2, "vector": [0, 1, 0], "payload": {"a": 2}}]""");

        JsonElement all = (await Http.PostJsonAsync("/collections/p_retrieve/points", """{"ids": [2, 1, 99]}""")).Expect(HttpStatusCode.OK).Result;
        Assert.Equal([2UL, 1UL], all.EnumerateArray().Select(p => p.GetProperty("id").GetUInt64()));
        Assert.Equal(3, all[1].GetProperty("payload").EnumerateObject().Count()); // with_payload defaults to true
        Assert.Equal(JsonValueKind.Null, all[1].GetProperty("vector").ValueKind); // with_vector defaults to false

        JsonElement keys = (await Http.PostJsonAsync("/collections/p_retrieve/points", """{"ids": [1], "with_payload": ["a", "c"], "with_vector": true}""")).Expect(HttpStatusCode.OK).Result[0];
        Assert.Equal(["a", "c"], keys.GetProperty("payload").EnumerateObject().Select(p => p.Name).Order());
        Assert.Equal(3, keys.GetProperty("vector").GetArrayLength());

        JsonElement exclude = (await Http.PostJsonAsync("/collections/p_retrieve/points", """{"ids": [1], "with_payload": {"exclude": ["a"]}}""")).Expect(HttpStatusCode.OK).Result[0];
        Assert.Equal(["b", "c"], exclude.GetProperty("payload").EnumerateObject().Select(p => p.Name).Order());
        JsonElement include = (await Http.PostJsonAsync("/collections/p_retrieve/points", """{"ids": [1], "with_payload": {"include": ["b"]}, "with_vector": [""]}""")).Expect(HttpStatusCode.OK).Result[0];
        Assert.Equal(["b"], include.GetProperty("payload").EnumerateObject().Select(p => p.Name));
        Assert.Equal(3, include.GetProperty("vector").GetArrayLength());
        JsonElement none = (await Http.PostJsonAsync("/collections/p_retrieve/points", """{"ids": [1], "with_payload": false}""")).Expect(HttpStatusCode.OK).Result[0];
        Assert.Equal(JsonValueKind.Null, none.GetProperty("payload").ValueKind);

        Assert.Contains("with_vector", (await Http.PostJsonAsync("/collections/p_retrieve/points", """{"ids": [1], "with_vector": ["image"]}""")).Expect(HttpStatusCode.BadRequest).Error, StringComparison.Ordinal);
        Assert.Contains("nested", (await Http.PostJsonAsync("/collections/p_retrieve/points", """{"ids": [1], "with_payload": ["a.b"]}""")).Expect(HttpStatusCode.BadRequest).Error, StringComparison.Ordinal);
        Assert.Contains("ids", (await Http.PostJsonAsync("/collections/p_retrieve/points", """{}""")).Expect(HttpStatusCode.BadRequest).Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Delete_ByIdsAndByFilter_RemovesExactlyThose_AndIgnoresMissingIds()
    {
        await Http.CreateAsync("p_delete");
        await Http.UpsertAsync("p_delete", """[{"id": 1, "vector": [1, 0, 0], "payload": {"k": "a"}}, {"id": 2, "vector": [0, 1, 0], "payload": {"k": "b"}}, {"id": 3, "vector": [0, 0, 1], "payload": {"k": "a"}}, {"id": 4, "vector": [1, 1, 0], "payload": {"k": "c"}}]""");

        Answer byIds = (await Http.PostJsonAsync("/collections/p_delete/points/delete?wait=true", """{"points": [2, 99]}""")).Expect(HttpStatusCode.OK);
        Assert.True(byIds.Lsn > 0);
        Answer byFilter = (await Http.PostJsonAsync("/collections/p_delete/points/delete", """{"filter": {"must": [{"key": "k", "match": {"value": "a"}}]}}""")).Expect(HttpStatusCode.OK);
        Assert.True(byFilter.Lsn > byIds.Lsn);
        Assert.Equal(["4"], (await Http.StateAsync("p_delete")).Keys);

        Answer nothing = (await Http.PostJsonAsync("/collections/p_delete/points/delete", """{"points": [77]}""")).Expect(HttpStatusCode.OK);
        Assert.Equal(0, nothing.Lsn);
        Assert.Contains("either points", (await Http.PostJsonAsync("/collections/p_delete/points/delete", """{"points": [4], "filter": {}}""")).Expect(HttpStatusCode.BadRequest).Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Delete_ByAFilterMatchingMoreThanTheLimit_Answers400AndDeletesNothing()
    {
        await Http.CreateAsync("p_delete_many");
        for (int batch = 0; batch < 2; batch++)
        {
            string points = string.Join(", ", Enumerable.Range(batch * 30, 30).Select(i => $$$"""{"id": {{{i}}}, "vector": [1, 0, 0], "payload": {"k": "x"}}"""));
            await Http.UpsertAsync("p_delete_many", $"[{points}]");
        }

        Answer answer = (await Http.PostJsonAsync("/collections/p_delete_many/points/delete", """{"filter": {"must": [{"key": "k", "match": {"value": "x"}}]}}""")).Expect(HttpStatusCode.BadRequest);
        Assert.Contains("MaxPointsPerRequest", answer.Error, StringComparison.Ordinal);
        Assert.Equal(60, (await Http.PostJsonAsync("/collections/p_delete_many/points/count", "{}")).Result.GetProperty("count").GetInt32());
    }

    [Fact]
    public async Task Scroll_PagesInIdOrder_WithFilterAndNextPageOffset()
    {
        await Http.CreateAsync("p_scroll");
        await Http.UpsertAsync("p_scroll", $$$"""[{"id": "{{{Uuid}}}", "vector": [1, 0, 0], "payload": {"even": true}}, {"id": 10, "vector": [1, 0, 0], "payload": {"even": true}}, {"id": 2, "vector": [1, 0, 0], "payload": {"even": true}}, {"id": 3, "vector": [1, 0, 0], "payload": {"even": false}}, {"id": 4, "vector": [1, 0, 0], "payload": {"even": true}}]""");

        JsonElement first = (await Http.PostJsonAsync("/collections/p_scroll/points/scroll", """{"limit": 2}""")).Expect(HttpStatusCode.OK).Result;
        Assert.Equal([2UL, 3UL], first.GetProperty("points").EnumerateArray().Select(p => p.GetProperty("id").GetUInt64()));
        Assert.Equal(4UL, first.GetProperty("next_page_offset").GetUInt64());
        Assert.Equal(JsonValueKind.Object, first.GetProperty("points")[0].GetProperty("payload").ValueKind); // with_payload defaults to true
        Assert.Equal(JsonValueKind.Null, first.GetProperty("points")[0].GetProperty("vector").ValueKind);

        JsonElement second = (await Http.PostJsonAsync("/collections/p_scroll/points/scroll", """{"limit": 2, "offset": 4, "filter": {"must": [{"key": "even", "match": {"value": true}}]}, "with_payload": false, "with_vector": true}""")).Expect(HttpStatusCode.OK).Result;
        Assert.Equal("4", second.GetProperty("points")[0].GetProperty("id").GetRawText());
        Assert.Equal("10", second.GetProperty("points")[1].GetProperty("id").GetRawText());
        Assert.Equal(Uuid, second.GetProperty("next_page_offset").GetString());
        Assert.Equal(3, second.GetProperty("points")[0].GetProperty("vector").GetArrayLength());

        JsonElement last = (await Http.PostJsonAsync("/collections/p_scroll/points/scroll", $$"""{"offset": "{{Uuid}}"}""")).Expect(HttpStatusCode.OK).Result;
        Assert.Single(last.GetProperty("points").EnumerateArray());
        Assert.Equal(JsonValueKind.Null, last.GetProperty("next_page_offset").ValueKind);

        Assert.Contains("order_by", (await Http.PostJsonAsync("/collections/p_scroll/points/scroll", """{"order_by": "n"}""")).Expect(HttpStatusCode.BadRequest).Error, StringComparison.Ordinal);
        Assert.Contains("MaxLimit", (await Http.PostJsonAsync("/collections/p_scroll/points/scroll", """{"limit": 101}""")).Expect(HttpStatusCode.BadRequest).Error, StringComparison.Ordinal);
        Assert.Contains("limit", (await Http.PostJsonAsync("/collections/p_scroll/points/scroll", """{"limit": 0}""")).Expect(HttpStatusCode.BadRequest).Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Count_WithAFilter_IsExact_AndDeepFiltersAreRefusedNamingTheLimit()
    {
        await Http.CreateAsync("p_count");
        await Http.UpsertAsync("p_count", """[{"id": 1, "vector": [1, 0, 0], "payload": {"n": 1}}, {"id": 2, "vector": [1, 0, 0], "payload": {"n": 5}}, {"id": 3, "vector": [1, 0, 0], "payload": {"n": 9}}]""");
        Assert.Equal(2, (await Http.PostJsonAsync("/collections/p_count/points/count", """{"filter": {"must": [{"key": "n", "range": {"gte": 5}}]}, "exact": false}""")).Expect(HttpStatusCode.OK).Result.GetProperty("count").GetInt32());
        string deep = """{"filter": {"must": [{"must": [{"must": [{"must": [{"must": [{"key": "n", "match": {"value": 1}}]}]}]}]}]}}""";
        Assert.Contains("MaxFilterDepth", (await Http.PostJsonAsync("/collections/p_count/points/count", deep)).Expect(HttpStatusCode.BadRequest).Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UpdateVectors_ReplacesTheVector_KeepsThePayload_AndRefusesAMissingPoint()
    {
        await Http.CreateAsync("p_vectors");
        await Http.UpsertAsync("p_vectors", """[{"id": 1, "vector": [1, 0, 0], "payload": {"keep": "me"}}]""");
        Answer updated = (await Http.PutJsonAsync("/collections/p_vectors/points/vectors", """{"points": [{"id": 1, "vector": [0, 0, 2]}]}""")).Expect(HttpStatusCode.OK);
        Assert.True(updated.Lsn > 0);
        JsonElement point = (await Http.GetJsonAsync("/collections/p_vectors/points/1")).Result;
        Assert.Equal([0f, 0f, 2f], point.GetProperty("vector").EnumerateArray().Select(v => v.GetSingle()));
        Assert.Equal("me", point.GetProperty("payload").GetProperty("keep").GetString());

        SortedDictionary<string, string> before = await Http.StateAsync("p_vectors");
        Answer missing = (await Http.PutJsonAsync("/collections/p_vectors/points/vectors", """{"points": [{"id": 1, "vector": [5, 5, 5]}, {"id": 2, "vector": [0, 1, 0]}]}""")).Expect(HttpStatusCode.NotFound);
        Assert.Equal("Not found: No point with id 2 found", missing.Error);
        Assert.Equal(before, await Http.StateAsync("p_vectors"));
    }
}
