using System.Diagnostics;
using OxiVec.Cluster;
using OxiVec.ClusterTests.Infrastructure;
using static OxiVec.ClusterTests.Infrastructure.Coordinators;

namespace OxiVec.ClusterTests;

/// <summary>EtcdCoordinator against three real etcd members, some of them killed: one dead changes nothing; two dead and every call fails, in time, without a guess.</summary>
public sealed class EtcdQuorumTests
{
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(3); // etcd fsyncs each write: on a shared, busy disk 1 s is not always enough

    [Fact]
    public async Task KillingOneMemberOfThree_LeavesLeadershipRenewable_RefusedToOthers_AndResignable()
    {
        await using EtcdCluster etcd = await EtcdCluster.StartAsync(3);
        string cluster = NewClusterName();
        await using EtcdCoordinator a = Create(etcd.ClientUrls, cluster, CallTimeout), b = Create(etcd.ClientUrls, cluster, CallTimeout);
        LeadershipLease lease = (await a.TryAcquireLeadershipAsync(Candidate("a"), Ttl, default))!;

        await etcd.KillMemberAsync(0);
        // When the killed member was etcd's raft leader, the others elect a new one first (calls meanwhile answer
        // CoordinatorUnavailableException, as they must): wait until a survivor reports a leader.
        await etcd.WaitHealthyAsync(etcd.Members[1]);

        Assert.True((await a.RenewAsync(lease, default)).Held, etcd.Output);
        Assert.Null(await b.TryAcquireLeadershipAsync(Candidate("b"), Ttl, default));
        await b.PublishMemberAsync(Member("b"), Ttl, default);
        await a.ResignAsync(lease, default);
        LeadershipLease next = (await b.TryAcquireLeadershipAsync(Candidate("b"), Ttl, default))!;
        Assert.True(next.Epoch > lease.Epoch);
        Assert.Equal("b", Assert.Single(await a.GetMembersAsync(default)).NodeId);
    }

    [Fact]
    public async Task KillingTwoMembersOfThree_MakesEveryCallFailUnavailableWithinItsDeadline_AndRestartingThemRestoresService()
    {
        await using EtcdCluster etcd = await EtcdCluster.StartAsync(3);
        string cluster = NewClusterName();
        await using EtcdCoordinator a = Create(etcd.ClientUrls, cluster, CallTimeout), b = Create(etcd.ClientUrls, cluster, CallTimeout);
        LeadershipLease lease = (await a.TryAcquireLeadershipAsync(Candidate("a"), Ttl, default))!;

        await etcd.KillMemberAsync(0);
        await etcd.KillMemberAsync(1);

        // Each call is bounded by its deadline (plus the channel's retries within it): the bound here only turns a hang into a failure.
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var clock = Stopwatch.StartNew();
        await Assert.ThrowsAsync<CoordinatorUnavailableException>(() => a.RenewAsync(lease, bound.Token));
        await Assert.ThrowsAsync<CoordinatorUnavailableException>(() => b.TryAcquireLeadershipAsync(Candidate("b"), Ttl, bound.Token));
        await Assert.ThrowsAsync<CoordinatorUnavailableException>(() => b.GetLeaderAsync(bound.Token));
        await Assert.ThrowsAsync<CoordinatorUnavailableException>(() => a.SetSyncStateAsync(new SyncState("a", lease.Epoch, []), lease, bound.Token));
        await Assert.ThrowsAsync<CoordinatorUnavailableException>(() => b.PublishMemberAsync(Member("b"), Ttl, bound.Token));
        Assert.False(bound.IsCancellationRequested, $"calls took {clock.Elapsed}");

        etcd.RestartMember(0);
        etcd.RestartMember(1);
        foreach (EtcdMember member in etcd.Members)
        {
            await etcd.WaitHealthyAsync(member);
        }

        // Nobody but a ever led: the leader key is a's (its lease possibly extended by etcd's new raft leader) or gone.
        // Right after the restart a call may still answer unavailable (etcd's new raft leader promotes its leases
        // first): service is restored when calls succeed again within a bounded number of attempts.
        LeaderInfo? leader = await UntilAvailableAsync(() => b.GetLeaderAsync(default));
        Assert.True(leader is null || leader == lease.Leader, $"leader after the outage: {leader}");
        LeadershipLease? taken = await UntilAvailableAsync(() => b.TryAcquireLeadershipAsync(Candidate("b"), Ttl, default));
        if (leader is null)
        {
            Assert.NotNull(taken);
        }
        else
        {
            Assert.Null(taken);
        }
    }

    /// <summary>Runs <paramref name="call"/> until it does not throw <see cref="CoordinatorUnavailableException"/>, at most 5 attempts.</summary>
    private static async Task<T> UntilAvailableAsync<T>(Func<Task<T>> call)
    {
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                return await call();
            }
            catch (CoordinatorUnavailableException) when (attempt < 5)
            {
                // Each attempt is bounded by the call's own deadline.
            }
        }
    }

    [Fact]
    public async Task Watch_WhenItsMembersLoseQuorum_EndsWithCoordinatorUnavailable()
    {
        await using EtcdCluster etcd = await EtcdCluster.StartAsync(3);
        string cluster = NewClusterName();
        await using EtcdCoordinator a = Create(etcd.ClientUrls, cluster, CallTimeout);
        LeadershipLease lease = (await a.TryAcquireLeadershipAsync(Candidate("a"), Ttl, default))!;
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await using IAsyncEnumerator<ClusterChange> changes = a.WatchAsync(lease.Epoch, bound.Token).GetAsyncEnumerator(bound.Token);
        Assert.True(await changes.MoveNextAsync()); // the watch runs: it replays the leader key's creation
        Assert.Equal(ClusterChangeKind.LeaderChanged, changes.Current.Kind);

        await etcd.KillMemberAsync(0);
        await etcd.KillMemberAsync(1);

        // Whether the watch was on a killed member or on the one left without a raft leader, it ends (etcd cancels
        // watches that required a leader a few election timeouts after losing it).
        await Assert.ThrowsAsync<CoordinatorUnavailableException>(async () => await changes.MoveNextAsync());
        Assert.False(bound.IsCancellationRequested);
    }
}
