using System.Net;

namespace OxiVec.Server.Tests.Cluster;

/// <summary>The synchronous set follows the members: one gone longer than the grace leaves it, and comes back with the member.</summary>
public sealed class SyncSetMembershipTests
{
    private static readonly Dictionary<string, string?> ShortGrace = new() { ["OxiVec:Cluster:MemberRemovalGraceSeconds"] = "1" };

    [Fact]
    public async Task SyncMode_AMemberGoneLongerThanTheGrace_LeavesTheSyncSet_WritesGoOn_AndItIsAddedBackWhenItReturns()
    {
        var cluster = new FakeCluster();
        await using ClusterMember a = await ClusterMember.StartAsync(cluster, "a", mode: "sync", settings: ShortGrace);
        await a.WaitUntilAsync(() => cluster.Leader?.NodeId == "a", "a leading (alone, it holds writes until a standby joins)");
        await using ClusterMember b = await ClusterMember.StartAsync(cluster, "b", mode: "sync", settings: ShortGrace);
        ClusterMember c = await ClusterMember.StartAsync(cluster, "c", mode: "sync", settings: ShortGrace);
        try
        {
            await a.WaitUntilAsync(() => SyncMembers(cluster) == "b,c", "b and c in the synchronous set");
            await a.WaitUntilPrimaryAsync();
            await b.WaitUntilFollowingAsync(a);
            await c.WaitUntilFollowingAsync(a);
            Assert.Equal(HttpStatusCode.OK, (await a.SendAsync(HttpMethod.Put, "/collections/docs?wait=true", ClusterMember.Collection)).Status);
            Assert.Equal(HttpStatusCode.OK, (await a.UpsertAsync(1)).Status);

            // c leaves for good: its member key expires, and after the grace the leader drops it from the set.
            await c.StopAsync();
            cluster.ExpireMember("c");
            await a.WaitUntilAsync(() => SyncMembers(cluster) == "b", "c leaving the synchronous set");
            await a.WaitUntilAsync(() => a.Node.WritesRefused is null, "writes resuming");
            Assert.Equal(HttpStatusCode.OK, (await a.UpsertAsync(2)).Status);
            Assert.Equal(2, await a.CountAsync());

            // A member that returns is added back.
            await using ClusterMember back = await ClusterMember.StartAsync(cluster, "c", mode: "sync", settings: ShortGrace);
            await a.WaitUntilAsync(() => SyncMembers(cluster) == "b,c", "c back in the synchronous set");
        }
        finally
        {
            await c.DisposeAsync();
        }
    }

    private static string SyncMembers(FakeCluster cluster) => cluster.Sync is { } sync ? string.Join(",", sync.Members) : "";
}
