using System.Net;
using OxiVec.Cluster;

namespace OxiVec.Server.Tests.Cluster;

/// <summary>What a member that is not the primary does with a write: redirect, proxy, or 503 while nobody leads; and who may lead in sync mode.</summary>
public sealed class ClusterRoutingTests
{
    private static async Task<(ClusterMember Primary, ClusterMember Standby)> PairAsync(FakeCluster cluster, Dictionary<string, string?>? settings = null)
    {
        ClusterMember a = await ClusterMember.StartAsync(cluster, "a", settings: settings);
        ClusterMember b = await ClusterMember.StartAsync(cluster, "b", settings: settings);
        await a.WaitUntilAsync(() => cluster.Leader is not null, "an election");
        (ClusterMember primary, ClusterMember standby) = cluster.Leader!.NodeId == "a" ? (a, b) : (b, a);
        await primary.WaitUntilPrimaryAsync();
        await standby.WaitUntilFollowingAsync(primary);
        return (primary, standby);
    }

    [Fact]
    public async Task WriteSentToAStandby_IsRedirected307ToThePrimarysSamePath_NamingItInOxiVecPrimary()
    {
        var cluster = new FakeCluster();
        (ClusterMember primary, ClusterMember standby) = await PairAsync(cluster);
        await using (primary)
        await using (standby)
        {
            (HttpStatusCode status, string body, HttpResponseMessage response) = await standby.SendAsync(HttpMethod.Put, "/collections/docs?wait=true", ClusterMember.Collection);
            Assert.Equal(HttpStatusCode.TemporaryRedirect, status);
            Assert.Equal(new Uri(primary.Address, "/collections/docs?wait=true"), response.Headers.Location);
            Assert.Equal(primary.Address.ToString().TrimEnd('/'), response.Headers.GetValues("OxiVec-Primary").Single());
            Assert.Contains("not the primary", body, StringComparison.Ordinal);
            Assert.Equal(HttpStatusCode.NotFound, (await standby.SendAsync(HttpMethod.Get, "/collections/docs")).Status); // reads stay local
        }
    }

    [Fact]
    public async Task WriteSentToAStandby_WithProxyForwarding_IsAnsweredByThePrimary()
    {
        var cluster = new FakeCluster();
        (ClusterMember primary, ClusterMember standby) = await PairAsync(cluster, new() { ["OxiVec:Cluster:WriteForwarding"] = "proxy" });
        await using (primary)
        await using (standby)
        {
            (HttpStatusCode status, string body, HttpResponseMessage response) = await standby.SendAsync(HttpMethod.Put, "/collections/docs", ClusterMember.Collection);
            Assert.True(status == HttpStatusCode.OK, body);
            Assert.True(response.Headers.Contains("OxiVec-Lsn"));
            (HttpStatusCode upserted, string error, _) = await standby.UpsertAsync(1);
            Assert.True(upserted == HttpStatusCode.OK, error);
            Assert.Equal(1, await primary.CountAsync());
        }
    }

    [Fact]
    public async Task WhileNobodyLeads_AWriteAnswers503WithRetryAfter_AndNothingIsWritten()
    {
        var cluster = new FakeCluster();
        // etcd unreachable from the start: no election can happen. (Set after the start, the node could win an election
        // first: the test then failed with 200 instead of 503.)
        await using ClusterMember a = await ClusterMember.StartAsync(cluster, "a", coordinatorUnreachable: true);
        await a.WaitUntilAsync(() => a.Node.Status.LastError is not null, "a failed step");
        (HttpStatusCode status, string body, HttpResponseMessage response) = await a.SendAsync(HttpMethod.Put, "/collections/docs", ClusterMember.Collection);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Equal("1", response.Headers.RetryAfter?.ToString());
        Assert.Contains("no primary", body, StringComparison.Ordinal);
        Assert.Null(cluster.Leader);
    }

    [Fact]
    public async Task SyncMode_AMemberOutsideThePublishedSyncSet_IsNeverPromoted_AMemberInItIs()
    {
        var cluster = new FakeCluster { Sync = new SyncState("a", 3, ["b"]) }; // a led with b as its synchronous standby, then died
        await using ClusterMember c = await ClusterMember.StartAsync(cluster, "c", mode: "sync");
        await c.WaitUntilAsync(() => c.Node.Status.LastDecision?.Contains("not in the synchronous set", StringComparison.Ordinal) == true, "refusing to run");
        Assert.Null(cluster.Leader);

        await using ClusterMember b = await ClusterMember.StartAsync(cluster, "b", mode: "sync");
        await b.WaitUntilPrimaryAsync();
        await c.WaitUntilFollowingAsync(b);
        Assert.Equal("b", cluster.Leader!.NodeId);
    }
}
