using System.Globalization;
using System.Net;
using System.Text.Json;

namespace OxiVec.Server.Tests.Replication;

/// <summary>Two in-process servers replicating over gRPC on loopback: a primary and a standby that dials it (and one the primary pushes to).</summary>
public sealed class TwoHostReplicationTests
{
    private const string Collection = """{"vectors": {"size": 3, "distance": "Dot"}}""";

    private static Dictionary<string, string?> Primary(params (string Key, string Value)[] more)
    {
        var settings = new Dictionary<string, string?> { ["OxiVec:Server:Grpc"] = "127.0.0.1:0", ["OxiVec:SyncIntervalMs"] = "0" };
        foreach ((string key, string value) in more)
        {
            settings[key] = value;
        }

        return settings;
    }

    private static Dictionary<string, string?> StandbyOf(Uri primary, string name) => new()
    {
        ["OxiVec:Replication:StandbyOf"] = primary.ToString(),
        ["OxiVec:Replication:NodeName"] = name,
        ["OxiVec:SyncIntervalMs"] = "0",
    };

    [Fact]
    public async Task StandbyFollowingOverGrpc_ServesThePrimarysWrites_AtTheWritesLsn_AndRefusesItsOwn()
    {
        await using ServerFixture primary = await ServerFixture.StartAsync(Primary(("OxiVec:Replication:SynchronousStandbys", "FIRST 1 (b)")));
        await using ServerFixture standby = await ServerFixture.StartAsync(StandbyOf(primary.GrpcAddress!, "b"));

        await ReplicationHttpTests.WriteAsync(primary, ServerFixture.Request(HttpMethod.Put, "/collections/docs", json: Collection));
        long lsn = 0;
        for (int i = 1; i <= 20; i++)
        {
            lsn = await ReplicationHttpTests.WriteAsync(primary, ServerFixture.Request(
                HttpMethod.Put, "/collections/docs/points", json: $$$"""{"points": [{"id": {{{i}}}, "vector": [{{{i}}}, 0, 1], "payload": {"i": {{{i}}}}}]}"""));
        }

        HttpRequestMessage count = ServerFixture.Request(HttpMethod.Post, "/collections/docs/points/count", json: "{}");
        count.Headers.Add("OxiVec-Min-Lsn", lsn.ToString(CultureInfo.InvariantCulture));
        count.Headers.Add("OxiVec-Min-Lsn-Timeout-Ms", "30000");
        (HttpStatusCode status, string? error, HttpResponseMessage response) = await standby.SendAsync(count);
        Assert.True(status == HttpStatusCode.OK, $"{status}: {error}");
        using (JsonDocument body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()))
        {
            Assert.Equal(20, body.RootElement.GetProperty("result").GetProperty("count").GetInt32());
        }

        // Synchronous at remote flush: the primary's status shows b flushed through the last acknowledged LSN.
        using (HttpResponseMessage status2 = await primary.Client.GetAsync(new Uri("/oxivec/replication", UriKind.Relative)))
        using (JsonDocument body = JsonDocument.Parse(await status2.Content.ReadAsStringAsync()))
        {
            JsonElement b = body.RootElement.GetProperty("result").GetProperty("primary").GetProperty("standbys").EnumerateArray().Single();
            Assert.Equal("b", b.GetProperty("name").GetString());
            Assert.True(b.GetProperty("flushed_lsn").GetInt64() >= lsn, $"b flushed {b.GetProperty("flushed_lsn")}, the last acknowledged write is {lsn}");
        }

        (HttpStatusCode refused, _, HttpResponseMessage refusal) = await standby.SendAsync(
            ServerFixture.Request(HttpMethod.Put, "/collections/docs/points", json: """{"points": [{"id": 99, "vector": [1, 1, 1]}]}"""));
        Assert.Equal(HttpStatusCode.MisdirectedRequest, refused);
        Assert.Equal(primary.GrpcAddress!.ToString(), refusal.Headers.GetValues("OxiVec-Primary").Single());
    }

    [Fact]
    public async Task PrimaryPushingToAStandbyThatWaitsForPush_Replicates()
    {
        // The standby needs the primary for its base backup: start the primary first, then the standby, then tell the primary (a second primary process would be configured up front).
        await using ServerFixture primary = await ServerFixture.StartAsync(Primary());
        Dictionary<string, string?> standbySettings = StandbyOf(primary.GrpcAddress!, "p");
        standbySettings["OxiVec:Replication:WaitForPush"] = "true";
        standbySettings["OxiVec:Server:Grpc"] = "127.0.0.1:0";
        await using ServerFixture standby = await ServerFixture.StartAsync(standbySettings);
        using OxiVec.Replication.Grpc.StandbyConnection push = OxiVec.Replication.Grpc.GrpcReplication.ConnectToStandby(standby.GrpcAddress!);
        primary.Host.Replicator!.AddStandby("p", push.Connect);

        await ReplicationHttpTests.WriteAsync(primary, ServerFixture.Request(HttpMethod.Put, "/collections/docs", json: Collection));
        long lsn = await ReplicationHttpTests.WriteAsync(primary, ServerFixture.Request(
            HttpMethod.Put, "/collections/docs/points", json: """{"points": [{"id": 7, "vector": [1, 2, 3]}]}"""));
        HttpRequestMessage get = ServerFixture.Request(HttpMethod.Get, "/collections/docs/points/7");
        get.Headers.Add("OxiVec-Min-Lsn", lsn.ToString(CultureInfo.InvariantCulture));
        get.Headers.Add("OxiVec-Min-Lsn-Timeout-Ms", "30000");
        (HttpStatusCode status, string? error, _) = await standby.SendAsync(get);
        Assert.True(status == HttpStatusCode.OK, $"{status}: {error}");
    }
}
