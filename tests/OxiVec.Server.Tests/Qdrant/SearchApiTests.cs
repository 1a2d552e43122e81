using System.Net;
using System.Text.Json;

namespace OxiVec.Server.Tests.Qdrant;

public sealed class SearchApiTests(QdrantServer server) : IClassFixture<QdrantServer>
{
    private HttpClient Http => server.Http;

    private static ulong[] Ids(JsonElement points) => [.. points.EnumerateArray().Select(p => p.GetProperty("id").GetUInt64())];

    /// <summary>Five points on the x axis at distances 1..5 from the origin-side query [0, 0].</summary>
    private async Task LineAsync(string name, string distance)
    {
        await Http.CreateAsync(name, size: 2, distance: distance);
        await Http.UpsertAsync(name, """[{"id": 1, "vector": [1, 1], "payload": {"n": 1, "tag": "odd"}}, {"id": 2, "vector": [2, 1], "payload": {"n": 2, "tag": "even"}}, {"id": 3, "vector": [3, 1], "payload": {"n": 3, "tag": "odd"}}, {"id": 4, "vector": [4, 1], "payload": {"n": 4, "tag": "even"}}, {"id": 5, "vector": [5, 1], "payload": {"n": 5, "tag": "odd"}}]""");
    }

    [Fact]
    public async Task Query_ByVectorNearestOrPointId_WithLimitOffsetFilterAndPayload()
    {
        await LineAsync("s_query", "Euclid");
        JsonElement plain = (await Http.PostJsonAsync("/collections/s_query/points/query", """{"query": [0, 1], "limit": 3}""")).Expect(HttpStatusCode.OK).Result.GetProperty("points");
        Assert.Equal([1UL, 2UL, 3UL], Ids(plain));
        Assert.Equal(1.0, plain[0].GetProperty("score").GetDouble(), 5);
        Assert.Equal(JsonValueKind.Null, plain[0].GetProperty("payload").ValueKind); // with_payload defaults to false for search

        JsonElement nearest = (await Http.PostJsonAsync("/collections/s_query/points/query", """{"query": {"nearest": [0, 1]}, "limit": 2, "offset": 1, "with_payload": ["n"], "with_vector": true}""")).Expect(HttpStatusCode.OK).Result.GetProperty("points");
        Assert.Equal([2UL, 3UL], Ids(nearest));
        Assert.Equal(2, nearest[0].GetProperty("payload").GetProperty("n").GetInt32());
        Assert.False(nearest[0].GetProperty("payload").TryGetProperty("tag", out _));
        Assert.Equal([2f, 1f], nearest[0].GetProperty("vector").EnumerateArray().Select(v => v.GetSingle()));

        JsonElement filtered = (await Http.PostJsonAsync("/collections/s_query/points/query", """{"query": [0, 1], "limit": 2, "filter": {"must": [{"key": "tag", "match": {"value": "even"}}]}, "params": {"hnsw_ef": 32, "exact": true}}""")).Expect(HttpStatusCode.OK).Result.GetProperty("points");
        Assert.Equal([2UL, 4UL], Ids(filtered));

        JsonElement byId = (await Http.PostJsonAsync("/collections/s_query/points/query", """{"query": 3, "limit": 2}""")).Expect(HttpStatusCode.OK).Result.GetProperty("points");
        Assert.Equal([2UL, 4UL], Ids(byId).Order()); // the query point itself is left out, as in Qdrant
        Assert.Equal("Not found: No point with id 42 found", (await Http.PostJsonAsync("/collections/s_query/points/query", """{"query": {"nearest": 42}}""")).Expect(HttpStatusCode.NotFound).Error);
    }

    [Fact]
    public async Task Query_WithoutAQuery_ListsMatchingPointsInIdOrder_WithScoreOne()
    {
        await LineAsync("s_noquery", "Dot");
        JsonElement points = (await Http.PostJsonAsync("/collections/s_noquery/points/query", """{"limit": 2, "offset": 1, "filter": {"must": [{"key": "tag", "match": {"value": "odd"}}]}, "with_payload": true}""")).Expect(HttpStatusCode.OK).Result.GetProperty("points");
        Assert.Equal([3UL, 5UL], Ids(points));
        Assert.Equal(1.0, points[0].GetProperty("score").GetDouble());
        Assert.Equal("odd", points[0].GetProperty("payload").GetProperty("tag").GetString());
    }

    [Fact]
    public async Task ScoreThreshold_KeepsAtLeastForDotAndAtMostForEuclid()
    {
        await LineAsync("s_euclid", "Euclid");
        JsonElement euclid = (await Http.PostJsonAsync("/collections/s_euclid/points/query", """{"query": [0, 1], "score_threshold": 3}""")).Expect(HttpStatusCode.OK).Result.GetProperty("points");
        Assert.Equal([1UL, 2UL, 3UL], Ids(euclid));

        await LineAsync("s_dot", "Dot");
        JsonElement dot = (await Http.PostJsonAsync("/collections/s_dot/points/query", """{"query": [1, 0], "score_threshold": 4}""")).Expect(HttpStatusCode.OK).Result.GetProperty("points");
        Assert.Equal([5UL, 4UL], Ids(dot));
        Assert.Equal(5.0, dot[0].GetProperty("score").GetDouble(), 5);
    }

    [Fact]
    public async Task QueryBatchAndLegacySearch_AnswerInTheirShapes()
    {
        await LineAsync("s_batch", "Dot");
        JsonElement batch = (await Http.PostJsonAsync("/collections/s_batch/points/query/batch", """{"searches": [{"query": [1, 0], "limit": 1}, {"query": [-1, 0], "limit": 2, "with_payload": true}]}""")).Expect(HttpStatusCode.OK).Result;
        Assert.Equal([5UL], Ids(batch[0].GetProperty("points")));
        Assert.Equal([1UL, 2UL], Ids(batch[1].GetProperty("points")));
        Assert.Equal("odd", batch[1].GetProperty("points")[0].GetProperty("payload").GetProperty("tag").GetString());

        JsonElement search = (await Http.PostJsonAsync("/collections/s_batch/points/search", """{"vector": [1, 0], "limit": 2, "with_payload": true, "filter": {"must_not": [{"key": "n", "match": {"value": 5}}]}}""")).Expect(HttpStatusCode.OK).Result;
        Assert.Equal([4UL, 3UL], Ids(search));
        Assert.Equal(4, search[0].GetProperty("payload").GetProperty("n").GetInt32());
        Assert.Equal(0, search[0].GetProperty("version").GetInt32());

        JsonElement named = (await Http.PostJsonAsync("/collections/s_batch/points/search", """{"vector": {"name": "", "vector": [1, 0]}, "limit": 1}""")).Expect(HttpStatusCode.OK).Result;
        Assert.Equal([5UL], Ids(named));

        JsonElement searchBatch = (await Http.PostJsonAsync("/collections/s_batch/points/search/batch", """{"searches": [{"vector": [1, 0], "limit": 1}, {"vector": [0, 1], "limit": 1, "offset": 4}]}""")).Expect(HttpStatusCode.OK).Result;
        Assert.Equal([5UL], Ids(searchBatch[0]));
        Assert.Single(searchBatch[1].EnumerateArray());
    }

    [Theory]
    [InlineData("s_missing", HttpStatusCode.NotFound)]
    [InlineData("s%20bad", HttpStatusCode.BadRequest)]
    [InlineData("s_dim", HttpStatusCode.BadRequest)]
    public async Task Query_Failures_AnswerInQdrantsEnvelope_AsSearchDoes(string name, HttpStatusCode expected)
    {
        // /points/query answers its own errors (it runs outside the Qdrant group's endpoint filter): the same status,
        // message and envelope as /points/search for the same failure.
        if (name == "s_dim" && !(await Http.GetJsonAsync($"/collections/{name}/exists")).Result.GetProperty("exists").GetBoolean())
        {
            await LineAsync(name, "Dot");
        }

        Answer query = (await Http.PostJsonAsync($"/collections/{name}/points/query", """{"query": [1, 0, 0], "limit": 1}""")).Expect(expected);
        Answer search = (await Http.PostJsonAsync($"/collections/{name}/points/search", """{"vector": [1, 0, 0], "limit": 1}""")).Expect(expected);
        Assert.Equal(search.Error.Replace("vector: ", "", StringComparison.Ordinal), query.Error.Replace("query: ", "", StringComparison.Ordinal));
        Assert.True(query.Body.GetProperty("time").GetDouble() >= 0);
        Assert.False(query.Body.TryGetProperty("result", out _));
    }

    [Theory]
    [InlineData("/points/query", """{"query": [1, 0], "using": "image"}""", "using")]
    [InlineData("/points/query", """{"query": {"recommend": {"positive": [1]}}}""", "recommend")]
    [InlineData("/points/query", """{"query": {"fusion": "rrf"}}""", "fusion")]
    [InlineData("/points/query", """{"query": {"indices": [1], "values": [0.5]}}""", "sparse")]
    [InlineData("/points/query", """{"query": {"nearest": [1, 0], "mmr": {"diversity": 0.5}}}""", "mmr")]
    [InlineData("/points/query", """{"query": [[1, 0], [0, 1]]}""", "multivector")]
    [InlineData("/points/query", """{"prefetch": [{"query": [1, 0]}], "query": [1, 0]}""", "prefetch")]
    [InlineData("/points/query", """{"query": [1, 0], "params": {"quantization": {"rescore": true}}}""", "params.quantization")]
    [InlineData("/points/query", """{"query": [1, 0, 0]}""", "expected dim: 2")]
    [InlineData("/points/query", """{"query": [1, "x"]}""", "query[1]")]
    [InlineData("/points/query", """{"query": [1, 0], "limit": 0}""", "limit")]
    [InlineData("/points/query", """{"query": [1, 0], "limit": 60, "offset": 41}""", "MaxLimit")]
    [InlineData("/points/query", """{"query": [1, 0], "filter": {"must": [{"key": "n", "geo_radius": {}}]}}""", "geo_radius")]
    [InlineData("/points/query", """{"query": [1, 0], "score_threshold": "high"}""", "score_threshold")]
    [InlineData("/points/query/batch", """{"searches": [{"query": [1, 0]}, {"query": {"nearest": [1]}}]}""", "searches[1].query.nearest: Vector dimension error: expected dim: 2, got 1")]
    [InlineData("/points/search", """{"vector": {"name": "", "vector": [1]}, "limit": 1}""", "vector.vector: Vector dimension error")]
    [InlineData("/points/query/batch", """{"searches": [{"query": [1, 0]}, {"query": [1, 0], "lookup_from": {"collection": "x"}}]}""", "searches[1].lookup_from")]
    [InlineData("/points/search", """{"vector": [1, 0]}""", "limit")]
    [InlineData("/points/search", """{"vector": {"name": "image", "vector": [1, 0]}, "limit": 1}""", "vector.name")]
    [InlineData("/points/search", """{"limit": 1}""", "vector")]
    public async Task Search_WithWhatOxiVecDoesNotHave_Answers400NamingIt(string path, string body, string named)
    {
        const string name = "s_refused";
        if (!(await Http.GetJsonAsync($"/collections/{name}/exists")).Result.GetProperty("exists").GetBoolean())
        {
            await LineAsync(name, "Dot");
        }

        Answer answer = (await Http.PostJsonAsync($"/collections/{name}{path}", body)).Expect(HttpStatusCode.BadRequest);
        Assert.Contains(named, answer.Error, StringComparison.Ordinal);
    }

    /// <summary>
    /// The plain query path writes its answers with the thread's reused points list and JSON writer: answers to
    /// concurrent queries of different limits and payload choices are each
    /// exactly the answer the same query gets alone.
    /// </summary>
    [Fact]
    public async Task Query_ConcurrentPlainQueries_EachAnswerAsTheSameQueryAlone()
    {
        const string name = "s_concurrent";
        await Http.CreateAsync(name, size: 4, distance: "Euclid");
        for (int chunk = 0; chunk < 6; chunk++)
        {
            await Http.UpsertAsync(name, "[" + string.Join(", ", Enumerable.Range(1 + (chunk * 50), 50).Select(i =>
                $$$"""{"id": {{{i}}}, "vector": [{{{i % 7}}}, {{{i % 11}}}, {{{i % 13}}}, {{{i}}}], "payload": {"n": {{{i}}}, "tag": "t{{{i % 3}}}"}}""")) + "]");
        }
        string[] bodies = [.. Enumerable.Range(0, 12).Select(q =>
            $$"""{"query": [{{q % 5}}, {{q % 3}}, 1, {{q * 25}}], "limit": {{(q % 4) switch { 0 => 1, 1 => 10, 2 => 40, _ => 100 }}}, "with_payload": {{(q % 2 == 0 ? "true" : "false")}}}""")];
        var alone = new string[bodies.Length];
        for (int q = 0; q < bodies.Length; q++)
        {
            alone[q] = (await Http.PostJsonAsync($"/collections/{name}/points/query", bodies[q])).Expect(HttpStatusCode.OK).Result.GetProperty("points").GetRawText();
        }

        Assert.Equal(100, JsonDocument.Parse(alone[3]).RootElement.GetArrayLength());
        await Task.WhenAll(Enumerable.Range(0, 8).Select(client => Task.Run(async () =>
        {
            for (int i = 0; i < 36; i++)
            {
                int q = (client + (i * 5)) % bodies.Length;
                string points = (await Http.PostJsonAsync($"/collections/{name}/points/query", bodies[q])).Expect(HttpStatusCode.OK).Result.GetProperty("points").GetRawText();
                Assert.Equal(alone[q], points);
            }
        })));
    }
}
