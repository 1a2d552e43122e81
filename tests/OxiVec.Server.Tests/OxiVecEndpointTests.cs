using System.Net;
using System.Text.Json;
using OxiVec.Storage;

namespace OxiVec.Server.Tests;

public sealed class OxiVecEndpointTests
{
    private static async Task<JsonElement> ResultAsync(ServerFixture server, HttpMethod method, string path)
    {
        using var request = ServerFixture.Request(method, path);
        using HttpResponseMessage response = await server.Client.SendAsync(request);
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{method} {path}: {(int)response.StatusCode} {body}");
        using var json = JsonDocument.Parse(body);
        Assert.Equal("ok", json.RootElement.GetProperty("status").GetString());
        return json.RootElement.GetProperty("result").Clone();
    }

    [Fact]
    public async Task Checkpoint_WritesOne_AndAnswersItsSequenceLsnAndBytes()
    {
        await using ServerFixture server = await ServerFixture.StartAsync();
        server.Host.Database.CreateCollection("docs", new CollectionOptions(3));
        long lsn = server.Host.Database.Upsert("docs", "a", new float[] { 1, 2, 3 });

        JsonElement result = await ResultAsync(server, HttpMethod.Post, "/oxivec/checkpoint");
        Assert.Equal(lsn, result.GetProperty("covered_lsn").GetInt64());
        Assert.True(result.GetProperty("bytes").GetInt64() > 0);
        Assert.Equal(server.Host.Database.LastCheckpoint!.Sequence, result.GetProperty("sequence").GetInt64());
        Assert.True(Directory.Exists(result.GetProperty("path").GetString()));
        Assert.True(result.TryGetProperty("duration_ms", out _));
    }

    [Fact]
    public async Task WalMetricsHealthAndRecovery_AnswerTheEnginesFigures()
    {
        await using ServerFixture server = await ServerFixture.StartAsync();
        server.Host.Database.CreateCollection("docs", new CollectionOptions(2));
        long lsn = server.Host.Database.Upsert("docs", "a", new float[] { 1, 2 });

        JsonElement metrics = await ResultAsync(server, HttpMethod.Get, "/oxivec/wal/metrics");
        Assert.Equal(lsn, metrics.GetProperty("last_lsn").GetInt64());
        Assert.False(metrics.GetProperty("is_failed").GetBoolean());
        Assert.True(metrics.GetProperty("current_size_bytes").GetInt64() > 0);

        JsonElement health = await ResultAsync(server, HttpMethod.Get, "/oxivec/wal/health");
        Assert.Equal("healthy", health.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Array, health.GetProperty("findings").ValueKind);
        Assert.NotEqual(0, health.GetProperty("not_judged").GetArrayLength()); // a young WAL: no baseline yet

        JsonElement recovery = await ResultAsync(server, HttpMethod.Get, "/oxivec/recovery");
        Assert.Equal(0, recovery.GetProperty("applied_entries").GetInt64());
        Assert.True(recovery.GetProperty("wal_open").GetProperty("is_new").GetBoolean());
    }

    [Fact]
    public async Task Recovery_AfterARestart_CountsTheReplayedEntries()
    {
        string directory = Path.Combine(Path.GetTempPath(), "oxivec-server-" + Guid.NewGuid().ToString("N"));
        var noCheckpoint = new Dictionary<string, string?> { ["OxiVec:CheckpointOnStop"] = "false" };
        ServerFixture first = await ServerFixture.StartAsync(noCheckpoint, directory);
        first.Host.Database.CreateCollection("docs", new CollectionOptions(2));
        first.Host.Database.Upsert("docs", "a", new float[] { 1, 2 });
        await first.StopAsync();

        await using ServerFixture second = await ServerFixture.StartAsync(noCheckpoint, directory);
        JsonElement recovery = await ResultAsync(second, HttpMethod.Get, "/oxivec/recovery");
        Assert.Equal(2, recovery.GetProperty("applied_entries").GetInt64());
        Assert.False(recovery.GetProperty("wal_open").GetProperty("is_new").GetBoolean());
    }

    [Fact]
    public async Task CollectionIndex_AnswersShapeIndexAndCount_And404ForAnUnknownCollection()
    {
        await using ServerFixture server = await ServerFixture.StartAsync();
        server.Host.Database.CreateCollection("docs", new CollectionOptions(4) { Metric = Indexing.DistanceMetric.Euclidean });
        server.Host.Database.Upsert("docs", "a", new float[] { 1, 2, 3, 4 });
        server.Host.Database.Upsert("docs", "b", new float[] { 4, 3, 2, 1 });

        JsonElement index = await ResultAsync(server, HttpMethod.Get, "/oxivec/collections/docs/index");
        Assert.Equal("docs", index.GetProperty("name").GetString());
        Assert.Equal(4, index.GetProperty("dimension").GetInt32());
        Assert.Equal("euclidean", index.GetProperty("metric").GetString());
        Assert.Equal("hnsw", index.GetProperty("index").GetString());
        Assert.Equal(2, index.GetProperty("count").GetInt32());
        Assert.Equal(16, index.GetProperty("hnsw").GetProperty("m").GetInt32());

        var (status, error, _) = await server.SendAsync(ServerFixture.Request(HttpMethod.Get, "/oxivec/collections/nope/index"));
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Contains("nope", error, StringComparison.Ordinal);
    }
}
