using System.Globalization;
using System.Net;
using CsCheck;

namespace OxiVec.Server.Tests.Qdrant;

/// <summary>
/// Random JSON bodies (built from the words of Qdrant's requests, so many get deep into the parsers) never make the
/// server answer 500, and a refused write (4xx) never changes the collection.
/// </summary>
public sealed class RequestFuzzTests(QdrantServer server) : IClassFixture<QdrantServer>
{
    private const int Iterations = 150;

    private static readonly string[] Keys =
    [
        "points", "batch", "ids", "vectors", "payloads", "id", "vector", "payload", "query", "nearest", "filter", "must", "should",
        "must_not", "key", "match", "value", "any", "except", "range", "gt", "gte", "lt", "lte", "limit", "offset", "with_payload",
        "with_vector", "params", "hnsw_ef", "exact", "score_threshold", "using", "include", "exclude", "has_id", "is_empty", "is_null",
        "operations", "upsert", "delete", "set_payload", "keys", "name", "",
    ];

    private static readonly Gen<string> Scalar = Gen.OneOf(
        Gen.Const("null"), Gen.Const("true"), Gen.Const("false"), Gen.Const("1"), Gen.Const("0"), Gen.Const("-1"), Gen.Const("1e400"),
        Gen.Const("18446744073709551615"), Gen.Const("18446744073709551616"), Gen.Const("0.5"), Gen.Const("\"5c56c793-69f3-4fbf-87e6-c4bf54c28c26\""),
        Gen.Const("\"\""), Gen.Const("\"a\""), Gen.Const("[1, 0, 0]"), Gen.Const("[0.5, 0.25, 1]"), Gen.Const("[1, 0]"), Gen.Const("[]"), Gen.Const("{}"),
        Gen.Int[-3, 300].Select(i => i.ToString(CultureInfo.InvariantCulture)),
        Gen.String[Gen.Char.AlphaNumeric, 0, 6].Select(s => $"\"{s}\""));

    private static Gen<string> Json(int depth) => depth == 0
        ? Scalar
        : Gen.Frequency(
            (2, Scalar),
            (2, Json(depth - 1).Array[0, 4].Select(items => "[" + string.Join(", ", items) + "]")),
            (4, Gen.Select(Gen.Int[0, Keys.Length - 1], Json(depth - 1)).Array[0, 4]
                .Select(fields => "{" + string.Join(", ", fields.Select(f => $"\"{Keys[f.Item1]}\": {f.Item2}")) + "}")));

    /// <summary>Valid bodies of the endpoints with one part replaced by random JSON ("{0}"), to reach the deeper checks.</summary>
    private static readonly string[] Templates =
    [
        """{"points": [{"id": 1, "vector": [1, 0, 0], "payload": {0}}]}""",
        """{"points": [{"id": {0}, "vector": [1, 0, 0]}, {"id": 2, "vector": [0, 1, 0]}]}""",
        """{"points": [{"id": 3, "vector": {0}}]}""",
        """{"batch": {"ids": [1, 4], "vectors": {0}, "payloads": [{"a": 2}, null]}}""",
        """{"query": [1, 0, 0], "filter": {0}, "with_payload": true}""",
        """{"query": {0}, "limit": 2}""",
        """{"vector": [0, 1, 0], "limit": 2, "filter": {"must": [{0}]}}""",
        """{"filter": {"should": [{0}, {"key": "a", "match": {"value": 1}}]}, "limit": 3}""",
        """{"payload": {0}, "points": [1]}""",
        """{"payload": {"b": 1}, "filter": {0}}""",
        """{"points": [1, {0}]}""",
        """{"ids": {0}, "with_payload": true}""",
        """{"operations": [{"upsert": {"points": [{"id": 9, "vector": [1, 1, 0]}]}}, {0}]}""",
        """{"operations": [{"set_payload": {"payload": {"z": 1}, "points": [1]}}, {"delete": {0}}]}""",
        """{"operations": [{"upsert": {"points": [{"id": 9, "vector": [1, 1, 0]}]}}, {"set_payload": {"payload": {"z": 1}, "points": {0}}}]}""",
        """{"operations": [{"delete": {"points": [1]}}, {"update_vectors": {"points": [{"id": {0}, "vector": [1, 0, 0]}]}}]}""",
    ];

    private static readonly Gen<string> Body = Gen.Frequency(
        (3, Json(4)),
        (3, Gen.Select(Gen.Int[0, Templates.Length - 1], Json(3)).Select(t => Templates[t.Item1].Replace("{0}", t.Item2, StringComparison.Ordinal))),
        (1, Gen.String[Gen.Char["{}[]\":,0a1 "], 0, 30]));

    [Theory]
    [InlineData("PUT", "/points")]
    [InlineData("POST", "/points/batch")]
    [InlineData("POST", "/points/delete")]
    [InlineData("POST", "/points/payload")]
    [InlineData("POST", "/points/query")]
    [InlineData("POST", "/points/search")]
    [InlineData("POST", "/points/scroll")]
    [InlineData("POST", "/points/count")]
    [InlineData("POST", "/points")]
    public async Task RandomBodies_NeverAnswer500_AndRefusedOnesChangeNothing(string method, string path)
    {
        string name = "fuzz_" + Guid.NewGuid().ToString("N");
        await server.Http.CreateAsync(name);
        await server.Http.UpsertAsync(name, """[{"id": 1, "vector": [1, 0, 0], "payload": {"a": 1}}, {"id": 2, "vector": [0, 1, 0], "payload": {"a": "x"}}, {"id": "5c56c793-69f3-4fbf-87e6-c4bf54c28c26", "vector": [0, 0, 1]}]""");
        SortedDictionary<string, string> state = await server.Http.StateAsync(name);
        await Body.SampleAsync(
            async body =>
            {
                Answer answer = await server.Http.SendAsync(new HttpMethod(method), $"/collections/{name}{path}", body);
                Assert.True((int)answer.Status < 500, $"{(int)answer.Status} for {body}: {answer.Raw}");
                if (answer.Status == HttpStatusCode.OK)
                {
                    state = await server.Http.StateAsync(name);
                }
                else
                {
                    Assert.True(answer.Body.GetProperty("status").GetProperty("error").GetString()!.Length > 0);
                    Assert.Equal(state, await server.Http.StateAsync(name));
                }
            },
            iter: Iterations,
            threads: 1);
    }
}
