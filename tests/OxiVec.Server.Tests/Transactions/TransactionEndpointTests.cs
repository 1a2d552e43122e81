using System.Net;
using System.Text.Json;
using OxiVec.Storage;
using OxiVec.Transactions;

namespace OxiVec.Server.Tests.Transactions;

/// <summary><c>/oxivec/transactions</c>: prepare, commit, rollback, list and state over HTTP, with the server's statuses.</summary>
public sealed class TransactionEndpointTests
{
    private const string Prepare = """
        {"coordinator": "coord-1", "operations": [
          {"upsert": {"collection": "docs", "points": [{"id": 7, "vector": [0, 0, 1], "payload": {"k": "v"}},
                                                     {"id": "5c56c793-69f3-4fbf-87e6-c4bf54c28c26", "vector": [1, 1, 1]}]}},
          {"delete": {"collection": "docs", "points": [1]}}]}
        """;

    private static async Task<ServerFixture> StartSeededAsync(IReadOnlyDictionary<string, string?>? settings = null)
    {
        ServerFixture server = await ServerFixture.StartAsync(settings);
        server.Host.Database.CreateCollection("docs", new CollectionOptions(3));
        server.Host.Database.Upsert("docs", "1", new float[] { 1, 0, 0 });
        return server;
    }

    private static async Task<JsonElement> OkAsync(ServerFixture server, HttpMethod method, string path, string? json = null, string? apiKey = null)
    {
        using HttpRequestMessage request = ServerFixture.Request(method, path, apiKey, json);
        using HttpResponseMessage response = await server.Client.SendAsync(request);
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{method} {path}: {(int)response.StatusCode} {body}");
        using var document = JsonDocument.Parse(body);
        return document.RootElement.GetProperty("result").Clone();
    }

    [Fact]
    public async Task PrepareThenCommit_OverHttp_AppliesTheWritesOnlyAtCommit_TranslatingQdrantIdsAndPayloads()
    {
        await using ServerFixture server = await StartSeededAsync();
        VectorDatabase db = server.Host.Database;

        JsonElement prepared = await OkAsync(server, HttpMethod.Post, "/oxivec/transactions/g-1/prepare", Prepare);
        Assert.Equal("prepared", prepared.GetProperty("state").GetString());
        Assert.Equal("coord-1", prepared.GetProperty("coordinator").GetString());
        Assert.Equal(3, prepared.GetProperty("operation_count").GetInt32());
        Assert.Null(db.Get("docs", "7"));
        Assert.NotNull(db.Get("docs", "1"));

        JsonElement list = await OkAsync(server, HttpMethod.Get, "/oxivec/transactions");
        Assert.Equal("g-1", Assert.Single(list.EnumerateArray()).GetProperty("gid").GetString());
        Assert.Equal("prepared", (await OkAsync(server, HttpMethod.Get, "/oxivec/transactions/g-1")).GetProperty("state").GetString());

        Assert.Equal("committed", (await OkAsync(server, HttpMethod.Post, "/oxivec/transactions/g-1/commit")).GetProperty("state").GetString());
        Assert.Equal("committed", (await OkAsync(server, HttpMethod.Post, "/oxivec/transactions/g-1/commit")).GetProperty("state").GetString()); // idempotent
        Assert.Equal("v", db.Get("docs", "7")!.Metadata["k"].ToString());
        Assert.NotNull(db.Get("docs", "5c56c793-69f3-4fbf-87e6-c4bf54c28c26"));
        Assert.Null(db.Get("docs", "1"));
        Assert.Equal(0, (await OkAsync(server, HttpMethod.Get, "/oxivec/transactions")).GetArrayLength());
        Assert.Equal("unknown", (await OkAsync(server, HttpMethod.Get, "/oxivec/transactions/other")).GetProperty("state").GetString());
    }

    [Fact]
    public async Task Refusals_AnswerClearStatuses_409Conflict_404UnknownGid_400BadInput()
    {
        await using ServerFixture server = await StartSeededAsync();
        await OkAsync(server, HttpMethod.Post, "/oxivec/transactions/g-1/prepare", Prepare);

        // A plain Qdrant write of a reserved point, a second prepare of it, and a reused gid: 409.
        var (status, error, _) = await server.SendAsync(ServerFixture.Request(HttpMethod.Put, "/collections/docs/points?wait=true", json: """{"points": [{"id": 7, "vector": [1, 2, 3]}]}"""));
        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Contains("g-1", error, StringComparison.Ordinal);
        (status, error, _) = await server.SendAsync(ServerFixture.Request(HttpMethod.Post, "/oxivec/transactions/g-2/prepare", json: """{"operations": [{"delete": {"collection": "docs", "points": [1]}}]}"""));
        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Contains("g-1", error, StringComparison.Ordinal);
        (status, _, _) = await server.SendAsync(ServerFixture.Request(HttpMethod.Post, "/oxivec/transactions/g-1/prepare", json: """{"operations": [{"upsert": {"collection": "docs", "points": [{"id": 9, "vector": [1, 2, 3]}]}}]}"""));
        Assert.Equal(HttpStatusCode.Conflict, status);

        // Commit of a gid never prepared: 404; rollback of a committed one: 409; commit after rollback: 409.
        (status, error, _) = await server.SendAsync(ServerFixture.Request(HttpMethod.Post, "/oxivec/transactions/never/commit"));
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Contains("'never'", error, StringComparison.Ordinal);
        await OkAsync(server, HttpMethod.Post, "/oxivec/transactions/g-1/commit");
        Assert.Equal(HttpStatusCode.Conflict, (await server.SendAsync(ServerFixture.Request(HttpMethod.Post, "/oxivec/transactions/g-1/rollback"))).Status);
        Assert.Equal("rolled_back", (await OkAsync(server, HttpMethod.Post, "/oxivec/transactions/r-1/rollback")).GetProperty("state").GetString());
        Assert.Equal(HttpStatusCode.Conflict, (await server.SendAsync(ServerFixture.Request(HttpMethod.Post, "/oxivec/transactions/r-1/commit"))).Status);

        // Bad input: 400 naming the field; an inserted id that exists: 409; an unknown collection: 404.
        (status, error, _) = await server.SendAsync(ServerFixture.Request(HttpMethod.Post, "/oxivec/transactions/b-1/prepare", json: """{"operations": [{"upsert": {"collection": "docs", "points": [{"id": 3, "vector": [1, 2]}]}}]}"""));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("vector", error, StringComparison.Ordinal);
        (status, error, _) = await server.SendAsync(ServerFixture.Request(HttpMethod.Post, "/oxivec/transactions/b-2/prepare", json: """{"operations": [{"merge": {}}]}"""));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("operations[0]", error, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, (await server.SendAsync(ServerFixture.Request(HttpMethod.Post, "/oxivec/transactions/b-3/prepare", json: "{}"))).Status);
        Assert.Equal(HttpStatusCode.Conflict, (await server.SendAsync(ServerFixture.Request(HttpMethod.Post, "/oxivec/transactions/b-4/prepare", json: """{"operations": [{"insert": {"collection": "docs", "points": [{"id": 7, "vector": [1, 2, 3]}]}}]}"""))).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await server.SendAsync(ServerFixture.Request(HttpMethod.Post, "/oxivec/transactions/b-5/prepare", json: """{"operations": [{"delete": {"collection": "nope", "points": [1]}}]}"""))).Status);
        Assert.Equal(PreparedTransactionState.Unknown, server.Host.Database.GetTransactionState("b-4"));
    }

    [Fact]
    public async Task ReadOnlyKey_MayListAndRead_ButNotPrepareCommitOrRollback()
    {
        const string key = "rw-key-1", readOnly = "ro-key-2";
        await using ServerFixture server = await StartSeededAsync(new Dictionary<string, string?> { ["OxiVec:Server:ApiKey"] = key, ["OxiVec:Server:ReadOnlyApiKey"] = readOnly });
        await OkAsync(server, HttpMethod.Post, "/oxivec/transactions/g-1/prepare", Prepare, key);

        Assert.Equal(1, (await OkAsync(server, HttpMethod.Get, "/oxivec/transactions", apiKey: readOnly)).GetArrayLength());
        Assert.Equal("prepared", (await OkAsync(server, HttpMethod.Get, "/oxivec/transactions/g-1", apiKey: readOnly)).GetProperty("state").GetString());
        foreach (string path in new[] { "/oxivec/transactions/g-2/prepare", "/oxivec/transactions/g-1/commit", "/oxivec/transactions/g-1/rollback" })
        {
            Assert.Equal(HttpStatusCode.Forbidden, (await server.SendAsync(ServerFixture.Request(HttpMethod.Post, path, readOnly, Prepare))).Status);
        }

        Assert.Equal(PreparedTransactionState.Prepared, server.Host.Database.GetTransactionState("g-1"));
    }

    [Fact]
    public async Task Standby_RefusesPrepareCommitAndRollback_With421()
    {
        await using ServerFixture standby = await ServerFixture.StartAsync(
            new Dictionary<string, string?>
            {
                ["OxiVec:Replication:StandbyOf"] = "http://127.0.0.1:9",
                ["OxiVec:Replication:NodeName"] = "b",
                ["OxiVec:Replication:PrimaryHttpUrl"] = "http://primary.example:6333",
            },
            waitUntilReady: false);
        foreach (string path in new[] { "/oxivec/transactions/g/prepare", "/oxivec/transactions/g/commit", "/oxivec/transactions/g/rollback" })
        {
            var (status, error, _) = await standby.SendAsync(ServerFixture.Request(HttpMethod.Post, path, json: Prepare));
            Assert.Equal(HttpStatusCode.MisdirectedRequest, status);
            Assert.Contains("http://primary.example:6333", error, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task WalHealth_WarnsOfAPreparedTransactionOlderThanTheConfiguredAge_UntilItIsResolved()
    {
        // The smallest age: any prepared transaction is older than it by the time the health check runs.
        await using ServerFixture server = await StartSeededAsync(new Dictionary<string, string?> { ["OxiVec:PreparedTransactionWarningAge"] = "00:00:00.0000001" });
        Assert.DoesNotContain((await OkAsync(server, HttpMethod.Get, "/oxivec/wal/health")).GetProperty("findings").EnumerateArray(), f => f.GetString()!.Contains("'old'", StringComparison.Ordinal));
        await OkAsync(server, HttpMethod.Post, "/oxivec/transactions/old/prepare", Prepare);

        JsonElement health = await OkAsync(server, HttpMethod.Get, "/oxivec/wal/health");
        Assert.Equal("warning", health.GetProperty("status").GetString());
        Assert.Contains(health.GetProperty("findings").EnumerateArray(), f => f.GetString()!.Contains("'old'", StringComparison.Ordinal) && f.GetString()!.Contains("coord-1", StringComparison.Ordinal));

        await OkAsync(server, HttpMethod.Post, "/oxivec/transactions/old/rollback");
        Assert.DoesNotContain((await OkAsync(server, HttpMethod.Get, "/oxivec/wal/health")).GetProperty("findings").EnumerateArray(), f => f.GetString()!.Contains("'old'", StringComparison.Ordinal));
    }
}
