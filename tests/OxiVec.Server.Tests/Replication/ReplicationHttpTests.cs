using System.Globalization;
using System.Net;
using System.Text.Json;

namespace OxiVec.Server.Tests.Replication;

/// <summary>What replication adds to the REST API: 421 on a standby's writes, OxiVec-Lsn on writes, OxiVec-Min-Lsn on reads.</summary>
public sealed class ReplicationHttpTests
{
    private const string Collection = """{"vectors": {"size": 3, "distance": "Dot"}}""";
    private const string TwoPoints = """{"points": [{"id": 1, "vector": [1, 0, 0]}, {"id": 2, "vector": [0, 1, 0]}]}""";

    [Fact]
    public async Task WriteSentToAStandby_Answers421_NamingThePrimaryInTheMessageAndTheHeader_ReadsAreNotRefused()
    {
        // The standby's primary does not exist: the refusal needs no database, only the role.
        await using ServerFixture standby = await ServerFixture.StartAsync(
            new Dictionary<string, string?>
            {
                ["OxiVec:Replication:StandbyOf"] = "http://127.0.0.1:9",
                ["OxiVec:Replication:NodeName"] = "b",
                ["OxiVec:Replication:PrimaryHttpUrl"] = "http://primary.example:6333",
            },
            waitUntilReady: false);

        foreach (HttpRequestMessage write in new[]
        {
            ServerFixture.Request(HttpMethod.Put, "/collections/docs", json: Collection),
            ServerFixture.Request(HttpMethod.Put, "/collections/docs/points", json: TwoPoints),
            ServerFixture.Request(HttpMethod.Delete, "/collections/docs"),
            ServerFixture.Request(HttpMethod.Post, "/collections/docs/points/delete", json: """{"points": [1]}"""),
        })
        {
            (HttpStatusCode status, string? error, HttpResponseMessage response) = await standby.SendAsync(write);
            Assert.Equal(HttpStatusCode.MisdirectedRequest, status);
            Assert.Contains("http://primary.example:6333", error, StringComparison.Ordinal);
            Assert.Equal("http://primary.example:6333", response.Headers.GetValues("OxiVec-Primary").Single());
        }

        // A read is not refused as a write (it waits for the database instead: 503 while the standby cannot reach its primary).
        (HttpStatusCode readStatus, _, _) = await standby.SendAsync(ServerFixture.Request(HttpMethod.Post, "/collections/docs/points/scroll", json: "{}"));
        Assert.NotEqual(HttpStatusCode.MisdirectedRequest, readStatus);
    }

    [Fact]
    public async Task EveryWrite_AnswersOxiVecLsn_AndAReadRequiringItIsServedAtOnce()
    {
        await using ServerFixture primary = await ServerFixture.StartAsync();
        long created = await WriteAsync(primary, ServerFixture.Request(HttpMethod.Put, "/collections/docs", json: Collection));
        long upserted = await WriteAsync(primary, ServerFixture.Request(HttpMethod.Put, "/collections/docs/points?wait=true", json: TwoPoints));
        Assert.True(upserted > created, $"the upsert's LSN {upserted} follows the create's {created}");

        HttpRequestMessage read = ServerFixture.Request(HttpMethod.Post, "/collections/docs/points/count", json: "{}");
        read.Headers.Add("OxiVec-Min-Lsn", upserted.ToString(CultureInfo.InvariantCulture));
        (HttpStatusCode status, _, HttpResponseMessage response) = await primary.SendAsync(read);
        Assert.Equal(HttpStatusCode.OK, status);
        using JsonDocument body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(2, body.RootElement.GetProperty("result").GetProperty("count").GetInt32());
    }

    [Fact]
    public async Task ReadRequiringAnLsnNotYetApplied_WaitsItsTimeout_ThenAnswers503NamingBothLsns()
    {
        await using ServerFixture primary = await ServerFixture.StartAsync();
        long created = await WriteAsync(primary, ServerFixture.Request(HttpMethod.Put, "/collections/docs", json: Collection));
        long ahead = created + 1_000;
        HttpRequestMessage read = ServerFixture.Request(HttpMethod.Post, "/collections/docs/points/count", json: "{}");
        read.Headers.Add("OxiVec-Min-Lsn", ahead.ToString(CultureInfo.InvariantCulture));
        read.Headers.Add("OxiVec-Min-Lsn-Timeout-Ms", "50");
        (HttpStatusCode status, string? error, _) = await primary.SendAsync(read);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Contains($"LSN {ahead}", error, StringComparison.Ordinal);
        Assert.Contains($"LSN {created}", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("OxiVec-Min-Lsn", "-1")]
    [InlineData("OxiVec-Min-Lsn", "ten")]
    public async Task BadMinLsnHeader_Answers400NamingIt(string header, string value)
    {
        await using ServerFixture primary = await ServerFixture.StartAsync();
        HttpRequestMessage read = ServerFixture.Request(HttpMethod.Get, "/collections");
        read.Headers.TryAddWithoutValidation(header, value);
        (HttpStatusCode status, string? error, _) = await primary.SendAsync(read);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains(header, error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReplicationStatus_OnAPrimaryWithoutStandbys_SaysPrimary()
    {
        await using ServerFixture primary = await ServerFixture.StartAsync();
        using HttpResponseMessage response = await primary.Client.GetAsync(new Uri("/oxivec/replication", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using JsonDocument body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("primary", body.RootElement.GetProperty("result").GetProperty("role").GetString());
    }

    /// <summary>Sends a write, checks it succeeded, returns its OxiVec-Lsn.</summary>
    internal static async Task<long> WriteAsync(ServerFixture server, HttpRequestMessage write)
    {
        (HttpStatusCode status, string? error, HttpResponseMessage response) = await server.SendAsync(write);
        Assert.True(status == HttpStatusCode.OK, $"{status}: {error}");
        return long.Parse(response.Headers.GetValues("OxiVec-Lsn").Single(), CultureInfo.InvariantCulture);
    }
}
