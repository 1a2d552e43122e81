using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace OxiVec.Server.Tests.Qdrant;

public sealed class QdrantSmokeTests
{
    [Fact]
    public async Task CreateUpsertGetQuery_RoundTripsIdsPayloadsAndScores()
    {
        await using ServerFixture server = await ServerFixture.StartAsync();
        HttpClient http = server.Client;
        using (HttpResponseMessage created = await http.PutAsJsonAsync("/collections/docs", new { vectors = new { size = 3, distance = "Dot" } }))
        {
            Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        }

        const string uuid = "5c56c793-69f3-4fbf-87e6-c4bf54c28c26";
        var upsert = new
        {
            points = new object[]
            {
                new { id = 1, vector = new[] { 1f, 0f, 0f }, payload = new { city = "Berlin", n = 3 } },
                new { id = uuid, vector = new[] { 0f, 1f, 0f }, payload = new { city = "London", tags = new[] { "a", "b" } } },
            },
        };
        using (HttpResponseMessage upserted = await http.PutAsJsonAsync("/collections/docs/points?wait=true", upsert))
        {
            Assert.Equal(HttpStatusCode.OK, upserted.StatusCode);
            using JsonDocument answer = JsonDocument.Parse(await upserted.Content.ReadAsStringAsync());
            Assert.Equal("completed", answer.RootElement.GetProperty("result").GetProperty("status").GetString());
            Assert.Equal("ok", answer.RootElement.GetProperty("status").GetString());
        }

        using (JsonDocument one = JsonDocument.Parse(await http.GetStringAsync($"/collections/docs/points/{uuid}")))
        {
            JsonElement result = one.RootElement.GetProperty("result");
            Assert.Equal(uuid, result.GetProperty("id").GetString());
            Assert.Equal("London", result.GetProperty("payload").GetProperty("city").GetString());
        }

        var query = new { query = new[] { 0.9f, 0.1f, 0f }, limit = 2, with_payload = true, filter = new { must = new[] { new { key = "city", match = new { value = "Berlin" } } } } };
        using HttpResponseMessage searched = await http.PostAsJsonAsync("/collections/docs/points/query", query);
        using JsonDocument hits = JsonDocument.Parse(await searched.Content.ReadAsStringAsync());
        JsonElement points = hits.RootElement.GetProperty("result").GetProperty("points");
        Assert.Equal(1, points.GetArrayLength());
        Assert.Equal(1UL, points[0].GetProperty("id").GetUInt64());
        Assert.Equal(0.9, points[0].GetProperty("score").GetDouble(), 5);
        Assert.Equal(3, points[0].GetProperty("payload").GetProperty("n").GetInt32());
    }
}
