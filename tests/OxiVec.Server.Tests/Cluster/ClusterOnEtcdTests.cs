using System.Net;
using OxiVec.ClusterTests.Infrastructure;
using OxiVec.Hosting;

namespace OxiVec.Server.Tests.Cluster;

/// <summary>In-process cluster members on a real single-member etcd (started by the test on a free loopback port, stopped by process id).</summary>
public sealed class ClusterOnEtcdTests : IAsyncLifetime
{
    private EtcdCluster? _etcd;

    public async Task InitializeAsync() => _etcd = await EtcdCluster.StartAsync(1);

    public async Task DisposeAsync()
    {
        if (_etcd is not null)
        {
            await _etcd.DisposeAsync();
        }
    }

    [Fact]
    public async Task OnEtcd_OneMemberLeadsTheOtherFollowsAndRedirects_AndWhenTheLeaderStopsTheStandbyTakesOverWithEveryAcknowledgedWrite()
    {
        string name = "t" + Guid.NewGuid().ToString("n")[..10];
        await using ClusterMember a = await ClusterMember.StartAsync(null, "a", mode: "sync", etcd: _etcd!.Endpoints, name: name);
        await using ClusterMember b = await ClusterMember.StartAsync(null, "b", mode: "sync", etcd: _etcd.Endpoints, name: name);
        await a.WaitUntilAsync(() => a.Host.Role == NodeRole.Primary || b.Host.Role == NodeRole.Primary, "an election");
        (ClusterMember primary, ClusterMember standby) = a.Host.Role == NodeRole.Primary ? (a, b) : (b, a);
        await primary.WaitUntilPrimaryAsync();
        await standby.WaitUntilFollowingAsync(primary);
        long epoch = primary.Node.Status.Leader!.Epoch;

        (HttpStatusCode redirected, _, HttpResponseMessage redirect) = await standby.SendAsync(HttpMethod.Put, "/collections/docs", ClusterMember.Collection);
        Assert.Equal(HttpStatusCode.TemporaryRedirect, redirected);
        Assert.Equal(new Uri(primary.Address, "/collections/docs"), redirect.Headers.Location);

        await primary.WaitUntilAsync(() => primary.Host.Replicator?.GetStatus().Standbys.Any(s => s.Name == standby.NodeId && s.Connected) == true, "the standby connecting");
        (HttpStatusCode created, string error, _) = await primary.SendAsync(HttpMethod.Put, "/collections/docs", ClusterMember.Collection);
        Assert.True(created == HttpStatusCode.OK, error);
        for (int i = 1; i <= 5; i++)
        {
            (HttpStatusCode status, string body, _) = await primary.UpsertAsync(i); // sync: acknowledged once the standby flushed it
            Assert.True(status == HttpStatusCode.OK, body);
        }

        await primary.StopAsync(); // a graceful stop resigns: the standby takes over without waiting for the TTL
        await standby.WaitUntilPrimaryAsync();
        Assert.True(standby.Node.Status.Leader!.Epoch > epoch);
        Assert.Equal(5, await standby.CountAsync());
    }
}
