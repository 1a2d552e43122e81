using System.Net;
using System.Text.Json.Nodes;
using OxiVec.Client;

namespace OxiVec.Server.Tests.Client;

public sealed class ClientSearchTests(ClientServer server) : IClassFixture<ClientServer>
{
    private OxiVecClient Client => server.Client;

    /// <summary>Points 1..6 on a line at distance 1..6 from the query [0, 1]; payload n, tag (odd/even), tags (a list), maybe (null for 6, absent for 5).</summary>
    private async Task<string> LineAsync(string name, Distance distance = Distance.Euclid)
    {
        await Client.CreateCollectionAsync(name, new VectorParams(2, distance));
        await Client.UpsertAsync(name, [.. Enumerable.Range(1, 6).Select(i =>
        {
            var payload = new JsonObject { ["n"] = i, ["tag"] = i % 2 == 0 ? "even" : "odd", ["tags"] = new JsonArray($"t{i}", "all"), ["flag"] = i <= 3 };
            if (i < 5)
            {
                payload["maybe"] = "x";
            }
            else if (i == 6)
            {
                payload["maybe"] = null;
            }

            return new PointStruct((ulong)i, new float[] { i, 1 }, payload);
        })]);
        return name;
    }

    private static ulong[] Ids(IReadOnlyList<ScoredPoint> points) => [.. points.Select(p => p.Id.Number)];

    [Fact]
    public async Task Query_WithLimitOffsetThresholdExactEfPayloadAndVector()
    {
        string c = await LineAsync("q_basic");
        IReadOnlyList<ScoredPoint> plain = await Client.QueryAsync(c, new QueryRequest(new float[] { 0, 1 }) { Limit = 3 });
        Assert.Equal([1UL, 2UL, 3UL], Ids(plain));
        Assert.Equal(1f, plain[0].Score, 5);
        Assert.Null(plain[0].Payload);
        Assert.Null(plain[0].Vector);

        IReadOnlyList<ScoredPoint> paged = await Client.QueryAsync(c, new QueryRequest(new float[] { 0, 1 })
        {
            Limit = 2, Offset = 1, HnswEf = 32, WithPayload = true, WithVector = true,
        });
        Assert.Equal([2UL, 3UL], Ids(paged));
        Assert.Equal(2, (int)paged[0].Payload!["n"]!);
        Assert.Equal([2f, 1f], paged[0].Vector!);

        ulong[] threshold = Ids(await Client.QueryAsync(c, new QueryRequest(new float[] { 0, 1 }) { ScoreThreshold = 3, Exact = true }));
        Assert.Equal([1UL, 2UL, 3UL], threshold);
        ulong[] nearest = [.. Ids(await Client.QueryAsync(c, new QueryRequest { NearestTo = 3, Limit = 2 })).Order()];
        Assert.Equal([2UL, 4UL], nearest); // the point itself is left out
        ulong[] noVector = Ids(await Client.QueryAsync(c, new QueryRequest { Filter = Filter.Must(Condition.Match("tag", "even")), Limit = 2 }));
        Assert.Equal([2UL, 4UL], noVector);
    }

    [Fact]
    public async Task QueryBatch_AnswersEachSearchInOrder()
    {
        string c = await LineAsync("q_batch", Distance.Dot);
        IReadOnlyList<IReadOnlyList<ScoredPoint>> results = await Client.QueryBatchAsync(c,
        [
            new QueryRequest(new float[] { 1, 0 }) { Limit = 1 },
            new QueryRequest(new float[] { -1, 0 }) { Limit = 2, Filter = Filter.MustNot(Condition.Match("n", 1)) },
        ]);
        Assert.Equal([6UL], Ids(results[0]));
        Assert.Equal([2UL, 3UL], Ids(results[1]));
    }

    [Fact]
    public async Task Query_WithAVectorOfTheWrongDimension_Throws400NamingIt()
    {
        string c = await LineAsync("q_bad");
        OxiVecClientException error = await Assert.ThrowsAsync<OxiVecClientException>(() => Client.QueryAsync(c, new QueryRequest(new float[] { 1, 2, 3 })));
        Assert.Equal(HttpStatusCode.BadRequest, error.StatusCode);
        Assert.Contains("dimension", error.ServerMessage, StringComparison.OrdinalIgnoreCase);
        Assert.Equal("POST", error.Method);
        Assert.Equal("/collections/q_bad/points/query", error.Path);
    }

    public static TheoryData<string, ulong[]> Filters => new()
    {
        { "match string", [2, 4, 6] },
        { "match long", [3] },
        { "match bool", [1, 2, 3] },
        { "match any strings", [3, 5] },
        { "match any longs", [1, 6] },
        { "match except strings", [1, 3, 5] },
        { "match except longs", [4, 5, 6] },
        { "match in a list", [4] },
        { "range", [2, 3, 4] },
        { "range open", [5, 6] },
        { "has id", [2, 5] },
        { "is empty", [5, 6] },
        { "is null", [6] },
        { "should", [1, 6] },
        { "must not", [1, 2, 3, 5] },
        { "nested", [1, 2, 5] },
    };

    private static Filter FilterNamed(string name) => name switch
    {
        "match string" => Filter.Must(Condition.Match("tag", "even")),
        "match long" => Filter.Must(Condition.Match("n", 3)),
        "match bool" => Filter.Must(Condition.Match("flag", true)),
        "match any strings" => Filter.Must(Condition.MatchAny("tags", "t3", "t5", "t9")),
        "match any longs" => Filter.Must(Condition.MatchAny("n", 1L, 6L)),
        "match except strings" => Filter.Must(Condition.MatchExcept("tag", "even")),
        "match except longs" => Filter.Must(Condition.MatchExcept("n", 1L, 2L, 3L)),
        "match in a list" => Filter.Must(Condition.Match("tags", "t4")),
        "range" => Filter.Must(Condition.Range("n", gt: 1, lte: 4)),
        "range open" => Filter.Must(Condition.Range("n", gte: 5)),
        "has id" => Filter.Must(Condition.HasId(2, 5, 77)),
        "is empty" => Filter.Must(Condition.IsEmpty("maybe")),
        "is null" => Filter.Must(Condition.IsNull("maybe")),
        "should" => Filter.Should(Condition.Match("n", 1), Condition.Match("n", 6)),
        "must not" => Filter.MustNot(Condition.Match("n", 4), Condition.Match("n", 6)),
        "nested" => Filter.Must(Condition.Nested(Filter.Should(Condition.Range("n", lt: 3), Condition.Match("n", 5))), Condition.Range("n", lt: 6)),
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [MemberData(nameof(Filters))]
    public async Task Filter_EachConditionKind_SelectsWhatItSays_InCountScrollAndQuery(string name, ulong[] expected)
    {
        string c = "q_filter_" + name.Replace(' ', '_');
        await LineAsync(c);
        Filter filter = FilterNamed(name);
        Assert.Equal(expected.Length, await Client.CountAsync(c, filter));
        Assert.Equal(expected, (await Client.ScrollAsync(c, new ScrollRequest { Filter = filter, Limit = 10 })).Points.Select(p => p.Id.Number));
        Assert.Equal(expected, Ids(await Client.QueryAsync(c, new QueryRequest(new float[] { 0, 1 }) { Filter = filter, Limit = 10 })));
    }

    [Fact]
    public void Filter_SerialisesToTheServersJson()
    {
        Filter filter = Filter.Must(Condition.Match("a", "x"), Condition.Range("n", gt: 1.5))
            .AndShould(Condition.HasId(1, Guid.Empty), Condition.IsNull("b"))
            .AndMustNot(Condition.Nested(Filter.Must(Condition.MatchAny("c", 1L, 2L))), Condition.IsEmpty("d"));
        Assert.Equal(
            """{"must":[{"key":"a","match":{"value":"x"}},{"key":"n","range":{"gt":1.5}}],"should":[{"has_id":[1,"00000000-0000-0000-0000-000000000000"]},{"is_null":{"key":"b"}}],"must_not":[{"must":[{"key":"c","match":{"any":[1,2]}}]},{"is_empty":{"key":"d"}}]}""",
            filter.ToString());
        Assert.Throws<ArgumentException>(() => Condition.Range("n"));
        Assert.Throws<ArgumentException>(() => Condition.Range("n", lt: double.NaN));
    }
}
