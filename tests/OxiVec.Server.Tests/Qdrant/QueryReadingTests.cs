using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using CsCheck;
using OxiVec.Hosting.Qdrant;
using OxiVec.Hosting.Server;

namespace OxiVec.Server.Tests.Qdrant;

/// <summary>
/// <c>/points/query</c> reads the common body shape the short way (<see cref="PlainQuery"/>) and everything else the
/// general way: both must answer every body exactly alike (status, result, error message).
/// </summary>
public sealed partial class QueryReadingTests(QdrantServer server) : IClassFixture<QdrantServer>
{
    private static readonly Gen<string> Number = Gen.OneOf(
        Gen.Float[-2f, 2f].Select(f => f.ToString("R", CultureInfo.InvariantCulture)),
        Gen.Int[-3, 3].Select(i => i.ToString(CultureInfo.InvariantCulture)),
        Gen.OneOf(Gen.Const("1e39"), Gen.Const("-1e400"), Gen.Const("0.5e-3"), Gen.Const("1E2"), Gen.Const("\"1\""), Gen.Const("null"), Gen.Const("true")));

    private static readonly Gen<string> Count = Gen.OneOf(
        Gen.Int[-1, 6].Select(i => i.ToString(CultureInfo.InvariantCulture)),
        Gen.OneOf(Gen.Const("99"), Gen.Const("101"), Gen.Const("2.0"), Gen.Const("1e1"), Gen.Const("9223372036854775808"), Gen.Const("3000000000"), Gen.Const("null"), Gen.Const("\"2\"")));

    private static readonly Gen<string> Flag = Gen.OneOf(Gen.Const("true"), Gen.Const("false"), Gen.Const("null"), Gen.Const("1"), Gen.Const("[\"\"]"));

    /// <summary>A query vector: mostly of the collection's 3 numbers, sometimes of another length or with bad items.</summary>
    private static readonly Gen<string> Vector = Gen.Frequency(
        (6, Gen.Float[-1f, 1f].Array[3].Select(v => "[" + string.Join(", ", v.Select(f => f.ToString("R", CultureInfo.InvariantCulture))) + "]")),
        (2, Number.Array[0, 4].Select(v => "[" + string.Join(",", v) + "]")),
        (1, Gen.OneOf(Gen.Const("[[1,0,0]]"), Gen.Const("{\"\": [1, 0, 0]}"), Gen.Const("{\"nearest\": [0, 1, 0]}"), Gen.Const("1"), Gen.Const("\"5c56c793-69f3-4fbf-87e6-c4bf54c28c26\""), Gen.Const("null"))));

    /// <summary>Names as written: plain, escaped, duplicated fields, and one Qdrant field the short way does not read.</summary>
    private static readonly (string Name, Gen<string> Value)[] Fields =
    [
        ("query", Vector), ("limit", Count), ("offset", Count), ("score_threshold", Number), ("with_payload", Flag), ("with_vector", Flag),
        ("\\u006cimit", Count), ("params", Gen.Const("{\"exact\": true}")), ("using", Gen.Const("\"\"")),
    ];

    private static readonly Gen<string> Field = Gen.Int[1, Fields.Length - 1].SelectMany(f => Fields[f].Value.Select(v => $"\"{Fields[f].Name}\": {v}"));

    private static readonly Gen<string> Body = Gen.Select(
        Vector.Select(v => $"\"query\": {v}"),
        Field.Array[0, 5],
        Gen.OneOf(Gen.Const(""), Gen.Const(" "), Gen.Const("\n\t")),
        Gen.Frequency((12, Gen.Const("")), (1, Gen.Const(" x")), (1, Gen.Const("{}")), (1, Gen.Const(","))),
        Gen.Int[0, 5]).Select(t =>
        {
            (string query, string[] extra, string space, string trailing, int queryAt) = t;
            var fields = new List<string>(extra);
            fields.Insert(Math.Min(queryAt, fields.Count), query);
            return "{" + space + string.Join("," + space, fields) + space + "}" + trailing;
        });

    [Fact]
    public async Task EveryQueryBody_IsAnsweredAlike_ReadTheShortWayOrTheGeneralWay()
    {
        string name = "reading_" + Guid.NewGuid().ToString("N");
        await server.Http.CreateAsync(name, size: 3, distance: "Cosine");
        await server.Http.UpsertAsync(name, """
            [{"id": 1, "vector": [1, 0, 0], "payload": {"a": 1, "s": "é\"<"}}, {"id": 2, "vector": [0, 1, 0], "payload": {"a": "x"}},
             {"id": "5c56c793-69f3-4fbf-87e6-c4bf54c28c26", "vector": [0, 0, 1]}, {"id": 18446744073709551615, "vector": [0.5, 0.5, 0.1], "payload": {"n": [1, {"b": null}]}},
             {"id": 7, "vector": [-1, 0.2, 0]}]
            """);
        string path = $"/collections/{name}/points/query";
        int plain = 0;
        await Body.SampleAsync(async body =>
        {
            // A null field is absent to the general reader, and makes the short one decline the body.
            string general = body.StartsWith('{') ? "{\"filter\": null, " + body[1..] : body;
            Answer shortWay = await server.Http.PostJsonAsync(path, body);
            Answer generalWay = await server.Http.PostJsonAsync(path, general);
            Assert.True(
                shortWay.Status == generalWay.Status && WithoutTime(shortWay.Raw) == WithoutTime(generalWay.Raw),
                $"body {body}\nanswered {(int)shortWay.Status} {shortWay.Raw}\nthe general way {(int)generalWay.Status} {generalWay.Raw}");
            if (PlainQuery.TryRead(Encoding.UTF8.GetBytes(body), new float[3], new QdrantLimits(new ServerOptions { MaxLimit = 100 }), out _))
            {
                Interlocked.Increment(ref plain);
            }
        }, iter: 800, threads: 1);
        Assert.True(plain > 30, $"only {plain} of the bodies took the short way: the test would not notice a difference in it");
    }

    [Theory]
    [InlineData("""{"query": [1, 0, 0]}""", true)]
    [InlineData("""{ "limit" : 2, "query":[1,0,0.5], "offset": 1, "score_threshold": -0.5, "with_payload": true, "with_vector": false }""", true)]
    [InlineData("""{"query": [1, 0, 0], "\u006cimit": 3}""", true)]
    [InlineData("""{"query": [1, 0, 0], "limit": 2, "limit": 3}""", false)]
    [InlineData("""{"query": [1, 0, 0], "limit": null}""", false)]
    [InlineData("""{"query": [1, 0, 0], "filter": {}}""", false)]
    [InlineData("""{"query": [1, 0]}""", false)]
    [InlineData("""{"query": [1, 0, 0, 0]}""", false)]
    [InlineData("""{"query": [1, 0, 1e39]}""", false)]
    [InlineData("""{"query": [1, 0, 0], "limit": 0}""", false)]
    [InlineData("""{"query": [1, 0, 0], "limit": 60, "offset": 41}""", false)]
    [InlineData("""{"query": [1, 0, 0]} x""", false)]
    [InlineData("{\"query\": [ 1 ,0,\n\t0.0 ] , \"limit\": 2}", true)]
    [InlineData("""{"query": [1, 0, 0.12345678901234567890123], "limit": 3}""", true)] // past the scan's digits: read token by token
    [InlineData("""{"query": [1, -0, 1e-3]}""", true)]
    [InlineData("""{"query": [1, 0, 01]}""", false)]
    [InlineData("""{"query": [1, 0, 0,]}""", false)]
    [InlineData("""{"query": [1, 0 0]}""", false)]
    [InlineData("""{"query": [1, 0, 0]]}""", false)]
    [InlineData("""{"query": [1, 0, +1]}""", false)]
    [InlineData("""{"query": [1, 0, 0], "query": [1, 0, 0]}""", false)]
    [InlineData("""{"query": [1, 0, 0], "limit": 2""", false)]
    [InlineData("""{"query": [1, 0, 0]""", false)]
    [InlineData("""{"limit": 2}""", false)]
    [InlineData("""{"query": 1}""", false)]
    [InlineData("""[]""", false)]
    [InlineData("", false)]
    public void ShortReading_TakesOnlyThePlainShape(string body, bool plain)
    {
        var vector = new float[3];
        bool read = PlainQuery.TryRead(Encoding.UTF8.GetBytes(body), vector, new QdrantLimits(new ServerOptions { MaxLimit = 100 }), out PlainQuery query);
        Assert.Equal(plain, read);
        if (read)
        {
            Assert.Equal(1f, vector[0]);
            Assert.True(query.Limit is 10 or 2 or 3);
        }
    }

    // The time differs; so do the byte positions in a bad JSON's message (the general body has the null field in front).
    private static string WithoutTime(string raw) => Position().Replace(TimeField().Replace(raw, "\"time\":0"), "$1#");

    [GeneratedRegex("\"time\":[-0-9.eE+]+")]
    private static partial Regex TimeField();

    [GeneratedRegex("(byte |BytePositionInLine: )[0-9]+")]
    private static partial Regex Position();
}
