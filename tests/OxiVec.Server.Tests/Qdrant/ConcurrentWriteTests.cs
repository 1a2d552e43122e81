using System.Net;
using System.Text.Json;

namespace OxiVec.Server.Tests.Qdrant;

/// <summary>
/// Payload operations are read-modify-writes of whole records: without the point locks a concurrent write to the
/// same point between the read and the commit would be overwritten by the stale record.
/// </summary>
public sealed class ConcurrentWriteTests(QdrantServer server) : IClassFixture<QdrantServer>
{
    private const int Rounds = 60;

    private HttpClient Http => server.Http;

    [Fact]
    public async Task ConcurrentSetPayloadOfDifferentKeys_NeverLosesEither()
    {
        await Http.CreateAsync("cw_keys");
        await Http.UpsertAsync("cw_keys", """[{"id": 1, "vector": [1, 0, 0]}]""");
        for (int round = 1; round <= Rounds; round++)
        {
            Task<Answer> a = Http.PostJsonAsync("/collections/cw_keys/points/payload", $$$"""{"payload": {"a": {{{round}}}}, "points": [1]}""");
            Task<Answer> b = Http.PostJsonAsync("/collections/cw_keys/points/payload", $$$"""{"payload": {"b": {{{round}}}}, "points": [1]}""");
            (await a).Expect(HttpStatusCode.OK);
            (await b).Expect(HttpStatusCode.OK);
            JsonElement payload = (await Http.GetJsonAsync("/collections/cw_keys/points/1")).Result.GetProperty("payload");
            Assert.True(payload.GetProperty("a").GetInt32() == round && payload.GetProperty("b").GetInt32() == round, $"round {round}: {payload}");
        }
    }

    [Fact]
    public async Task ConcurrentUpsertAndSetPayload_NeverLoseTheUpsertedVector()
    {
        await Http.CreateAsync("cw_upsert");
        await Http.UpsertAsync("cw_upsert", """[{"id": 1, "vector": [0, 1, 0]}]""");
        for (int round = 1; round <= Rounds; round++)
        {
            Task<Answer> upsert = Http.PutJsonAsync("/collections/cw_upsert/points", $$$"""{"points": [{"id": 1, "vector": [{{{round}}}, 1, 0], "payload": {"u": {{{round}}}}}]}""");
            Task<Answer> set = Http.PostJsonAsync("/collections/cw_upsert/points/payload", $$$"""{"payload": {"s": {{{round}}}}, "points": [1]}""");
            (await upsert).Expect(HttpStatusCode.OK);
            (await set).Expect(HttpStatusCode.OK);
            JsonElement point = (await Http.GetJsonAsync("/collections/cw_upsert/points/1")).Result;
            Assert.True(point.GetProperty("vector")[0].GetSingle() == round, $"round {round}: the upsert was lost: {point}");
            JsonElement payload = point.GetProperty("payload");
            Assert.Equal(round, payload.GetProperty("u").GetInt32());

            // Either order is a serial one: the set after the upsert adds s; the upsert after the set replaces the payload.
            Assert.True(!payload.TryGetProperty("s", out JsonElement s) || s.GetInt32() == round, $"round {round}: {payload}");
        }
    }
}
