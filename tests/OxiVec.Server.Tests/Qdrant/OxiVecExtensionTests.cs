using System.Net;
using System.Text.Json;

namespace OxiVec.Server.Tests.Qdrant;

/// <summary>OxiVec's two extensions of the Qdrant API, which Qdrant's clients never send: what they do, and that without them nothing changed.</summary>
public sealed class OxiVecExtensionTests(QdrantServer server) : IClassFixture<QdrantServer>
{
    private HttpClient Http => server.Http;

    private async Task<Answer> SendAsync(HttpMethod method, string path, string? json, bool asStored)
    {
        using var request = new HttpRequestMessage(method, path);
        if (json is not null)
        {
            request.Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");
        }

        if (asStored)
        {
            request.Headers.Add("OxiVec-Vectors", "stored");
        }

        using HttpResponseMessage response = await Http.SendAsync(request);
        string raw = await response.Content.ReadAsStringAsync();
        using JsonDocument document = JsonDocument.Parse(raw);
        return new Answer(response.StatusCode, document.RootElement.Clone(), raw, null);
    }

    private static float[] Vector(JsonElement point) => [.. point.GetProperty("vector").EnumerateArray().Select(v => v.GetSingle())];

    [Fact]
    public async Task VectorsHeader_Stored_ReturnsCosineVectorsAsWritten_EverywhereAVectorIsRead_AndWithoutItTheyAreUnitScaled()
    {
        await Http.CreateAsync("x_cosine", size: 2, distance: "Cosine");
        await Http.UpsertAsync("x_cosine", """[{"id": 1, "vector": [3, 4]}]""");
        float[] written = [3f, 4f];
        float[] unit = [0.6f, 0.8f];
        var reads = new (HttpMethod Method, string Path, string? Json, Func<JsonElement, JsonElement> Point)[]
        {
            (HttpMethod.Get, "/collections/x_cosine/points/1", null, r => r),
            (HttpMethod.Post, "/collections/x_cosine/points", """{"ids": [1], "with_vector": true}""", r => r[0]),
            (HttpMethod.Post, "/collections/x_cosine/points/scroll", """{"with_vector": true}""", r => r.GetProperty("points")[0]),
            (HttpMethod.Post, "/collections/x_cosine/points/query", """{"query": [1, 1], "with_vector": true}""", r => r.GetProperty("points")[0]),
            (HttpMethod.Post, "/collections/x_cosine/points/query", """{"with_vector": true}""", r => r.GetProperty("points")[0]),
            (HttpMethod.Post, "/collections/x_cosine/points/query/batch", """{"searches": [{"query": [1, 1], "with_vector": true}]}""", r => r[0].GetProperty("points")[0]),
            (HttpMethod.Post, "/collections/x_cosine/points/search", """{"vector": [1, 1], "limit": 1, "with_vector": true}""", r => r[0]),
            (HttpMethod.Post, "/collections/x_cosine/points/search/batch", """{"searches": [{"vector": [1, 1], "limit": 1, "with_vector": true}]}""", r => r[0][0]),
        };
        foreach ((HttpMethod method, string path, string? json, Func<JsonElement, JsonElement> point) in reads)
        {
            Answer stored = (await SendAsync(method, path, json, asStored: true)).Expect(HttpStatusCode.OK);
            Assert.Equal(written, Vector(point(stored.Result)));
            Answer qdrant = (await SendAsync(method, path, json, asStored: false)).Expect(HttpStatusCode.OK);
            float[] scaled = Vector(point(qdrant.Result));
            Assert.Equal(unit[0], scaled[0], 5);
            Assert.Equal(unit[1], scaled[1], 5);
        }
    }

    [Fact]
    public async Task StringRange_SelectsTopLevelStringsOrdinally_AndNothingElse()
    {
        await Http.CreateAsync("x_strings", size: 2);
        await Http.UpsertAsync("x_strings", """
            [{"id": 1, "vector": [1, 0], "payload": {"t": "2024-01-01T00:00:00.0000000Z"}},
             {"id": 2, "vector": [1, 0], "payload": {"t": "2024-06-01T00:00:00.0000000Z"}},
             {"id": 3, "vector": [1, 0], "payload": {"t": "2025-01-01T00:00:00.0000000Z"}},
             {"id": 4, "vector": [1, 0], "payload": {"t": 5}},
             {"id": 5, "vector": [1, 0], "payload": {"t": null}},
             {"id": 6, "vector": [1, 0], "payload": {"t": ["2024-06-01T00:00:00.0000000Z"]}},
             {"id": 7, "vector": [1, 0], "payload": {}}]
            """);
        async Task<string> Ids(string filter) => string.Join(',',
            (await Http.PostJsonAsync("/collections/x_strings/points/scroll", $$"""{"filter": {{filter}}}""")).Expect(HttpStatusCode.OK)
                .Result.GetProperty("points").EnumerateArray().Select(p => p.GetProperty("id").GetUInt64()));

        Assert.Equal("2,3", await Ids("""{"must": [{"key": "t", "oxivec_string_range": {"gt": "2024-01-01T00:00:00.0000000Z"}}]}"""));
        Assert.Equal("1,2", await Ids("""{"must": [{"key": "t", "oxivec_string_range": {"gte": "2024", "lte": "2024-06-01T00:00:00.0000000Z"}}]}"""));
        Assert.Equal("1", await Ids("""{"must": [{"key": "t", "oxivec_string_range": {"lt": "2024-06", "gt": null}}]}"""));
        Assert.Equal("4,5,6,7", await Ids("""{"must_not": [{"key": "t", "oxivec_string_range": {"gte": ""}}]}"""));
    }

    [Theory]
    [InlineData("""{"key": "a.b", "oxivec_string_range": {"gt": "x"}}""", "top-level field")]
    [InlineData("""{"key": "t", "oxivec_string_range": {"gt": 1}}""", "is a string")]
    [InlineData("""{"key": "t", "oxivec_string_range": {}}""", "at least one")]
    [InlineData("""{"key": "t", "oxivec_string_range": {"from": "x"}}""", "'from'")]
    [InlineData("""{"key": "t", "oxivec_string_range": "x"}""", "an object")]
    [InlineData("""{"key": "t", "range": {"gt": "2024-01-01T00:00:00Z"}}""", "datetime")]
    public async Task StringRange_Malformed_Answers400NamingIt_AndQdrantsRangeStillRefusesStrings(string condition, string named)
    {
        string name = "x_bad_" + Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(condition)))[..12];
        await Http.CreateAsync(name, size: 2);
        Answer answer = (await Http.PostJsonAsync($"/collections/{name}/points/scroll", "{\"filter\": {\"must\": [" + condition + "]}}")).Expect(HttpStatusCode.BadRequest);
        Assert.Contains("filter.must[0]", answer.Error, StringComparison.Ordinal);
        Assert.Contains(named, answer.Error, StringComparison.Ordinal);
    }
}
