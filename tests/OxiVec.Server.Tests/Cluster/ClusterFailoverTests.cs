using System.Net;
using System.Text.Json;
using OxiVec.Cluster;
using OxiVec.Hosting;

namespace OxiVec.Server.Tests.Cluster;

/// <summary>In-process cluster members on loopback over an in-memory coordinator: leading, following, failover, fencing, switchover.</summary>
public sealed class ClusterFailoverTests
{
    private static async Task<(ClusterMember Primary, ClusterMember Standby)> PairAsync(ClusterMember a, ClusterMember b, FakeCluster cluster)
    {
        await a.WaitUntilAsync(() => cluster.Leader is not null, "an election");
        (ClusterMember primary, ClusterMember standby) = cluster.Leader!.NodeId == a.NodeId ? (a, b) : (b, a);
        await primary.WaitUntilPrimaryAsync();
        await standby.WaitUntilFollowingAsync(primary);
        return (primary, standby);
    }

    private static async Task WriteOkAsync(ClusterMember member, int id)
    {
        (HttpStatusCode status, string body, _) = await member.UpsertAsync(id);
        Assert.True(status == HttpStatusCode.OK, $"{member.NodeId} upsert {id}: {status} {body}");
    }

    [Fact]
    public async Task ThreeMembers_OneLeads_TheOthersFollowIt_ServeItsWrites_AndGetClusterShowsEveryMember()
    {
        var cluster = new FakeCluster();
        await using ClusterMember a = await ClusterMember.StartAsync(cluster, "a");
        await using ClusterMember b = await ClusterMember.StartAsync(cluster, "b");
        await using ClusterMember c = await ClusterMember.StartAsync(cluster, "c");
        ClusterMember[] all = [a, b, c];
        await a.WaitUntilAsync(() => cluster.Leader is not null, "an election");
        ClusterMember primary = all.Single(m => m.NodeId == cluster.Leader!.NodeId);
        await primary.WaitUntilPrimaryAsync();
        foreach (ClusterMember standby in all.Where(m => m != primary))
        {
            await standby.WaitUntilFollowingAsync(primary);
        }

        (HttpStatusCode created, string error, _) = await primary.SendAsync(HttpMethod.Put, "/collections/docs", ClusterMember.Collection);
        Assert.True(created == HttpStatusCode.OK, error);
        for (int i = 1; i <= 5; i++)
        {
            await WriteOkAsync(primary, i);
        }

        foreach (ClusterMember standby in all.Where(m => m != primary))
        {
            await standby.WaitUntilAsync(() => standby.Host.Standby?.Status.AppliedLsn >= primary.Host.Replicator!.GetStatus().LastLsn, "catching up");
            Assert.Equal(5, await standby.CountAsync());
        }

        ClusterMember asked = all.First(m => m != primary);
        await asked.WaitUntilAsync(() => asked.Node.Status.Members.Count == 3, "seeing three members");
        (HttpStatusCode status, string body, _) = await asked.SendAsync(HttpMethod.Get, "/oxivec/cluster");
        Assert.Equal(HttpStatusCode.OK, status);
        using JsonDocument json = JsonDocument.Parse(body);
        JsonElement result = json.RootElement.GetProperty("result");
        Assert.Equal(primary.NodeId, result.GetProperty("leader").GetString());
        Assert.Equal(cluster.Leader!.Epoch, result.GetProperty("epoch").GetInt64());
        JsonElement[] members = [.. result.GetProperty("members").EnumerateArray()];
        Assert.Equal(["a", "b", "c"], members.Select(m => m.GetProperty("node_id").GetString()));
        Assert.Equal("primary", members.Single(m => m.GetProperty("leader").GetBoolean()).GetProperty("role").GetString());
    }

    [Fact]
    public async Task DeposedPrimary_CutOffFromTheCoordinator_RefusesWrites_ThenSeesTheNewEpoch_AndRejoinsAsAStandbyOfTheNewPrimary()
    {
        var cluster = new FakeCluster();
        await using ClusterMember a = await ClusterMember.StartAsync(cluster, "a");
        await using ClusterMember b = await ClusterMember.StartAsync(cluster, "b");
        (ClusterMember old, ClusterMember next) = await PairAsync(a, b, cluster);
        (HttpStatusCode created, string error, _) = await old.SendAsync(HttpMethod.Put, "/collections/docs", ClusterMember.Collection);
        Assert.True(created == HttpStatusCode.OK, error);
        for (int i = 1; i <= 3; i++)
        {
            await WriteOkAsync(old, i);
        }

        long oldEpoch = cluster.Leader!.Epoch;
        old.Coordinator.Unreachable = true; // cut off from etcd: its renewals fail
        cluster.ExpireLeader(); // ... and its lease runs out
        await next.WaitUntilPrimaryAsync();
        Assert.True(cluster.Leader!.Epoch > oldEpoch);

        // The old primary cannot renew: once its lease could have expired its fence refuses every write.
        await old.WaitUntilAsync(() => old.Node.WritesRefused is not null, "its fence closing");
        (HttpStatusCode refused, string refusal, HttpResponseMessage response) = await old.UpsertAsync(99);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused);
        Assert.Contains("fence", refusal, StringComparison.Ordinal);
        Assert.Equal("1", response.Headers.RetryAfter?.ToString());

        await WriteOkAsync(next, 4);
        old.Coordinator.Unreachable = false; // it reaches etcd again: the lease is gone, a newer epoch leads
        await old.WaitUntilFollowingAsync(next);
        await WriteOkAsync(next, 5);
        await old.WaitUntilAsync(() => old.Host.Standby?.Status.AppliedLsn >= next.Host.Replicator!.GetStatus().LastLsn, "catching up");
        Assert.Equal(5, await old.CountAsync());
    }

    [Fact]
    public async Task Fence_StopsAcknowledgingWhenTheLeaseCannotBeRenewed_AndResumesOnceARenewalGetsThrough()
    {
        var cluster = new FakeCluster();
        var clock = new JumpClock();
        await using ClusterMember a = await ClusterMember.StartAsync(cluster, "a", clock: clock);
        await a.WaitUntilPrimaryAsync();
        (HttpStatusCode created, string error, _) = await a.SendAsync(HttpMethod.Put, "/collections/docs", ClusterMember.Collection);
        Assert.True(created == HttpStatusCode.OK, error);
        await WriteOkAsync(a, 1);

        a.Coordinator.Unreachable = true;
        clock.Advance(TimeSpan.FromSeconds(5)); // past the last renewal + TTL (3 s) - margin (1 s), with no renewal since
        (HttpStatusCode refused, string refusal, _) = await a.UpsertAsync(2);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused);
        Assert.Contains("nothing was written", refusal, StringComparison.Ordinal);
        Assert.Equal(1, await a.CountAsync());

        a.Coordinator.Unreachable = false; // etcd is back and the lease still held: the next renewal reopens the fence
        await a.WaitUntilAsync(() => a.Node.WritesRefused is null, "a renewal reopening the fence");
        await WriteOkAsync(a, 2);
        Assert.Equal(2, await a.CountAsync());
        Assert.Equal(NodeRole.Primary, a.Host.Role);
    }

    [Fact]
    public async Task Switchover_HandsTheLeadToTheTarget_WithEveryAcknowledgedWrite_AndTheOldPrimaryFollowsIt()
    {
        var cluster = new FakeCluster();
        await using ClusterMember a = await ClusterMember.StartAsync(cluster, "a", mode: "sync");
        await using ClusterMember b = await ClusterMember.StartAsync(cluster, "b", mode: "sync");
        (ClusterMember old, ClusterMember target) = await PairAsync(a, b, cluster);
        await old.WaitUntilAsync(() => cluster.Sync?.Members.Contains(target.NodeId) == true, "the sync set naming the standby");
        (HttpStatusCode created, string error, _) = await old.SendAsync(HttpMethod.Put, "/collections/docs", ClusterMember.Collection);
        Assert.True(created == HttpStatusCode.OK, error);
        for (int i = 1; i <= 10; i++)
        {
            await WriteOkAsync(old, i); // sync: each acknowledged once the standby flushed it
        }

        await old.Coordinator.SetSwitchoverAsync(new SwitchoverRequest(target.NodeId, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()), CancellationToken.None);
        await target.WaitUntilPrimaryAsync();
        Assert.Null(cluster.Switchover);
        Assert.Equal(10, await target.CountAsync());
        await old.WaitUntilFollowingAsync(target);
        await WriteOkAsync(target, 11); // the old primary confirms it as the new primary's synchronous standby
        Assert.Equal(11, await target.CountAsync());
    }
}
