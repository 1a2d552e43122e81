using OxiVec.Cluster;
using OxiVec.ClusterTests.Infrastructure;
using static OxiVec.ClusterTests.Infrastructure.Coordinators;

namespace OxiVec.ClusterTests;

/// <summary>EtcdCoordinator against one real etcd member; each test works under its own cluster name.</summary>
public sealed class CoordinatorTests(SingleEtcdFixture fixture) : IClassFixture<SingleEtcdFixture>
{
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan ShortTtl = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task TryAcquire_WhenNobodyLeads_TakesLeadershipWithTheLeaderKeysCreationRevisionAsEpoch()
    {
        await using EtcdCoordinator a = fixture.Coordinator(NewClusterName());

        LeadershipLease? lease = await a.TryAcquireLeadershipAsync(Candidate("a"), Ttl, default);

        Assert.NotNull(lease);
        Assert.Equal("a", lease.Leader.NodeId);
        Assert.True(lease.Epoch > 0);
        Assert.Equal(Ttl, lease.Ttl);
        LeaderInfo? leader = await a.GetLeaderAsync(default);
        Assert.Equal(Candidate("a") with { Epoch = lease.Epoch }, leader);
    }

    [Fact]
    public async Task TryAcquire_WhenAnotherNodeLeads_IsRefusedAndLeavesTheLeaderUnchanged()
    {
        string cluster = NewClusterName();
        await using EtcdCoordinator a = fixture.Coordinator(cluster), b = fixture.Coordinator(cluster);
        LeadershipLease held = (await a.TryAcquireLeadershipAsync(Candidate("a"), Ttl, default))!;

        LeadershipLease? refused = await b.TryAcquireLeadershipAsync(Candidate("b"), Ttl, default);

        Assert.Null(refused);
        Assert.Equal(held.Leader, await b.GetLeaderAsync(default));
        Assert.True((await a.RenewAsync(held, default)).Held);
    }

    [Fact]
    public async Task Epoch_OfEachNewLeader_IsGreaterThanTheEpochBefore()
    {
        string cluster = NewClusterName();
        await using EtcdCoordinator a = fixture.Coordinator(cluster), b = fixture.Coordinator(cluster);
        var epochs = new List<long>();
        for (int round = 0; round < 3; round++)
        {
            EtcdCoordinator node = round % 2 == 0 ? a : b;
            LeadershipLease lease = (await node.TryAcquireLeadershipAsync(Candidate(round % 2 == 0 ? "a" : "b"), Ttl, default))!;
            Assert.Equal(lease.Epoch, (await b.GetLeaderAsync(default))!.Epoch);
            epochs.Add(lease.Epoch);
            await node.ResignAsync(lease, default);
        }

        Assert.Equal(epochs.Order(), epochs);
        Assert.Equal(epochs.Count, epochs.Distinct().Count());
    }

    [Fact]
    public async Task Renew_WhileHeld_ReportsHeldWithTheGrantedTtl()
    {
        await using EtcdCoordinator a = fixture.Coordinator(NewClusterName());
        LeadershipLease lease = (await a.TryAcquireLeadershipAsync(Candidate("a"), Ttl, default))!;

        LeaseRenewal renewal = await a.RenewAsync(lease, default);

        Assert.Equal(new LeaseRenewal(true, Ttl), renewal);
    }

    [Fact]
    public async Task LeaseExpiry_WithoutRenewal_FreesLeadership_AndALaterRenewalReportsNotHeld()
    {
        string cluster = NewClusterName();
        await using EtcdCoordinator a = fixture.Coordinator(cluster), b = fixture.Coordinator(cluster);
        LeadershipLease lease = (await a.TryAcquireLeadershipAsync(Candidate("a"), ShortTtl, default))!;

        ClusterChange lost = await WaitForChangeAsync(b, lease.Epoch + 1, ClusterChangeKind.LeaderLost, Patience);

        Assert.True(lost.Revision > lease.Epoch);
        Assert.Equal(new LeaseRenewal(false, TimeSpan.Zero), await a.RenewAsync(lease, default));
        Assert.Null(await b.GetLeaderAsync(default));
        LeadershipLease next = (await b.TryAcquireLeadershipAsync(Candidate("b"), Ttl, default))!;
        Assert.True(next.Epoch > lost.Revision);
    }

    [Fact]
    public async Task Renew_OfAnExpiredLeaseAfterAnotherNodeTookOver_ReportsNotHeld_AndItsResignLeavesTheNewLeader()
    {
        string cluster = NewClusterName();
        await using EtcdCoordinator a = fixture.Coordinator(cluster), b = fixture.Coordinator(cluster);
        LeadershipLease old = (await a.TryAcquireLeadershipAsync(Candidate("a"), ShortTtl, default))!;
        await WaitForChangeAsync(b, old.Epoch + 1, ClusterChangeKind.LeaderLost, Patience);
        LeadershipLease current = (await b.TryAcquireLeadershipAsync(Candidate("b"), Ttl, default))!;

        Assert.False((await a.RenewAsync(old, default)).Held);
        await a.ResignAsync(old, default);

        Assert.Equal(current.Leader, await a.GetLeaderAsync(default));
        Assert.True((await b.RenewAsync(current, default)).Held);
    }

    [Fact]
    public async Task Resign_DeletesTheLeaderKey_SoAnotherNodeAcquiresAtOnce_AndTheResignedLeaseIsNotHeld()
    {
        string cluster = NewClusterName();
        await using EtcdCoordinator a = fixture.Coordinator(cluster), b = fixture.Coordinator(cluster);
        LeadershipLease lease = (await a.TryAcquireLeadershipAsync(Candidate("a"), Ttl, default))!;

        await a.ResignAsync(lease, default);

        Assert.Null(await b.GetLeaderAsync(default));
        Assert.False((await a.RenewAsync(lease, default)).Held);
        Assert.NotNull(await b.TryAcquireLeadershipAsync(Candidate("b"), Ttl, default));
    }

    [Fact]
    public async Task SetSyncState_WhileLeading_IsPublished_AndAfterLeadershipWasLost_IsRefusedWritingNothing()
    {
        string cluster = NewClusterName();
        await using EtcdCoordinator a = fixture.Coordinator(cluster), b = fixture.Coordinator(cluster);
        LeadershipLease lease = (await a.TryAcquireLeadershipAsync(Candidate("a"), Ttl, default))!;
        var first = new SyncState("a", lease.Epoch, ["b", "c"]);
        Assert.True(await a.SetSyncStateAsync(first, lease, default));
        Assert.Equivalent(first, await b.GetSyncStateAsync(default), strict: true);
        await a.ResignAsync(lease, default);
        LeadershipLease next = (await b.TryAcquireLeadershipAsync(Candidate("b"), Ttl, default))!;

        bool written = await a.SetSyncStateAsync(new SyncState("a", lease.Epoch, ["c"]), lease, default);

        Assert.False(written);
        Assert.Equivalent(first, await b.GetSyncStateAsync(default), strict: true);
        Assert.True(await b.SetSyncStateAsync(new SyncState("b", next.Epoch, []), next, default));
        Assert.Empty((await a.GetSyncStateAsync(default))!.Members);
    }

    [Fact]
    public async Task LeaderPosition_OutlivesTheLeadersLease_AndADeposedLeaderCannotOverwriteIt()
    {
        string cluster = NewClusterName();
        await using EtcdCoordinator a = fixture.Coordinator(cluster), b = fixture.Coordinator(cluster);
        Assert.Null(await b.GetLeaderPositionAsync(default));
        LeadershipLease lease = (await a.TryAcquireLeadershipAsync(Candidate("a"), Ttl, default))!;
        var recorded = new LeaderPosition("a", lease.Epoch, 15);
        Assert.True(await a.SetLeaderPositionAsync(recorded, lease, default));
        await a.ResignAsync(lease, default); // the lease is gone; the position stays for the candidates

        Assert.Equal(recorded, await b.GetLeaderPositionAsync(default));
        LeadershipLease next = (await b.TryAcquireLeadershipAsync(Candidate("b"), Ttl, default))!;
        Assert.False(await a.SetLeaderPositionAsync(new LeaderPosition("a", lease.Epoch, 99), lease, default));
        Assert.Equal(recorded, await b.GetLeaderPositionAsync(default));
        Assert.True(await b.SetLeaderPositionAsync(new LeaderPosition("b", next.Epoch, 12), next, default));
        Assert.Equal(new LeaderPosition("b", next.Epoch, 12), await a.GetLeaderPositionAsync(default));
    }

    [Fact]
    public async Task Members_ArePublishedUnderTheirOwnLeases_AndDisappearWhenTheirPublisherStops()
    {
        string cluster = NewClusterName();
        await using EtcdCoordinator reader = fixture.Coordinator(cluster);
        EtcdCoordinator a = fixture.Coordinator(cluster);
        await using EtcdCoordinator b = fixture.Coordinator(cluster);
        await a.PublishMemberAsync(Member("a", MemberRole.Primary, 10), ShortTtl, default);
        await b.PublishMemberAsync(Member("b", MemberRole.Standby, 7), Ttl, default);
        await b.PublishMemberAsync(Member("b", MemberRole.Standby, 9), Ttl, default);

        IReadOnlyList<MemberState> members = await reader.GetMembersAsync(default);
        Assert.Equal(["a", "b"], members.Select(m => m.NodeId));
        Assert.Equal(MemberRole.Primary, members[0].Role);
        Assert.Equal(9, members[1].FlushedLsn);

        await a.DisposeAsync(); // a stops publishing: its lease expires after its TTL
        await WaitForChangeAsync(reader, 1, ClusterChangeKind.MembersChanged, Patience, occurrence: 4);

        Assert.Equal(["b"], (await reader.GetMembersAsync(default)).Select(m => m.NodeId));
    }

    [Fact]
    public async Task PublishMember_AfterItsLeaseExpired_PublishesUnderANewLease()
    {
        string cluster = NewClusterName();
        await using EtcdCoordinator a = fixture.Coordinator(cluster), reader = fixture.Coordinator(cluster);
        await a.PublishMemberAsync(Member("a"), ShortTtl, default);
        await WaitForChangeAsync(reader, 1, ClusterChangeKind.MembersChanged, Patience, occurrence: 2); // the put, then the expiry
        Assert.Empty(await reader.GetMembersAsync(default));

        await a.PublishMemberAsync(Member("a", flushed: 3), ShortTtl, default);

        Assert.Equal(3, Assert.Single(await reader.GetMembersAsync(default)).FlushedLsn);
    }

    [Fact]
    public async Task Switchover_IsStoredAndCleared()
    {
        await using EtcdCoordinator a = fixture.Coordinator(NewClusterName());
        var request = new SwitchoverRequest("b", 1234);

        await a.SetSwitchoverAsync(request, default);
        Assert.Equal(request, await a.GetSwitchoverAsync(default));
        await a.SetSwitchoverAsync(null, default);

        Assert.Null(await a.GetSwitchoverAsync(default));
    }

    [Fact]
    public async Task Watch_SeesLeaderChanged_Sync_Switchover_Members_AndLeaderLost_InOrder()
    {
        string cluster = NewClusterName();
        await using EtcdCoordinator a = fixture.Coordinator(cluster), watcher = fixture.Coordinator(cluster);
        LeadershipLease lease = (await a.TryAcquireLeadershipAsync(Candidate("a"), Ttl, default))!;
        await a.SetSyncStateAsync(new SyncState("a", lease.Epoch, []), lease, default);
        await a.SetSwitchoverAsync(new SwitchoverRequest("b", 1), default);
        await a.PublishMemberAsync(Member("a"), Ttl, default);
        await a.ResignAsync(lease, default);

        using var deadline = new CancellationTokenSource(Patience);
        var kinds = new List<ClusterChangeKind>();
        long revision = 0;
        await foreach (ClusterChange change in watcher.WatchAsync(lease.Epoch, deadline.Token))
        {
            Assert.True(change.Revision > revision);
            revision = change.Revision;
            kinds.Add(change.Kind);
            if (kinds.Count == 5)
            {
                break;
            }
        }

        Assert.Equal(
            [ClusterChangeKind.LeaderChanged, ClusterChangeKind.SyncChanged, ClusterChangeKind.SwitchoverChanged, ClusterChangeKind.MembersChanged, ClusterChangeKind.LeaderLost],
            kinds);
    }

    [Fact]
    public async Task Watch_FromNow_SeesALeaderCreatedAfterItStarted()
    {
        string cluster = NewClusterName();
        await using EtcdCoordinator a = fixture.Coordinator(cluster), watcher = fixture.Coordinator(cluster);
        using var deadline = new CancellationTokenSource(Patience);
        await using IAsyncEnumerator<ClusterChange> changes = watcher.WatchAsync(deadline.Token).GetAsyncEnumerator(deadline.Token);
        Task<bool> next = changes.MoveNextAsync().AsTask();

        // The watch is registered asynchronously: leaders come and go until it reports a new one (bounded by the
        // deadline). A watch registered between an acquire and its resign first reports that resign: the leader lost.
        for (int reported = 0; reported < 100; reported++)
        {
            while (!next.IsCompleted)
            {
                LeadershipLease lease = (await a.TryAcquireLeadershipAsync(Candidate("a"), Ttl, deadline.Token))!;
                await a.ResignAsync(lease, deadline.Token);
                await Task.WhenAny(next, Task.Delay(100, deadline.Token));
            }

            Assert.True(await next);
            if (changes.Current.Kind == ClusterChangeKind.LeaderChanged)
            {
                return;
            }

            Assert.Equal(ClusterChangeKind.LeaderLost, changes.Current.Kind);
            next = changes.MoveNextAsync().AsTask();
        }

        Assert.Fail("the watch reported 100 changes, none of them a new leader");
    }
}
