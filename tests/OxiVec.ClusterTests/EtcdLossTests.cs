using OxiVec.ClusterTests.History;
using OxiVec.ClusterTests.Infrastructure;
using Xunit.Abstractions;

namespace OxiVec.ClusterTests;

/// <summary>Three real cluster nodes on three etcd members, some of them killed under a write load.</summary>
[Collection(ProcessHeavyGroup.Name)]
public sealed class EtcdLossTests(ITestOutputHelper output)
{
    [Fact]
    public async Task OneEtcdMemberOfThreeKilled_ThePrimaryKeepsAcknowledging_ThenTwoKilled_ItStopsBeforeItsLeaseCouldExpire_AndResumesWithQuorum()
    {
        await using FailoverCluster cluster = await FailoverCluster.StartAsync(AckMode.Sync, etcdMembers: 3);
        cluster.StartWriters(3);
        (ClusterNodeProcess primary, long epoch) = await cluster.WaitForLeaderAsync();
        TimeSpan since = cluster.Clock.Elapsed;
        await cluster.WaitForAckAsync(a => a.Node == primary.NodeId && a.StartedAt > since, $"by primary {primary.NodeId}");

        await cluster.Etcd.KillMemberAsync(0);
        TimeSpan oneDown = cluster.Clock.Elapsed;
        await cluster.WaitForAckAsync(a => a.StartedAt > oneDown + cluster.LeaseTtl, "with one etcd member of three killed, past a lease TTL");
        Assert.Equal((primary, epoch), await cluster.WaitForLeaderAsync());

        await cluster.Etcd.KillMemberAsync(1);
        TimeSpan twoDown = cluster.Clock.Elapsed;
        // Observation window: the primary cannot renew; whatever it acknowledges must have been sent before its lease
        // could have expired (the TTL after the quorum was lost). Two TTLs of writes are watched.
        await Task.Delay(2 * cluster.LeaseTtl);
        TimeSpan watchedUntil = cluster.Clock.Elapsed;
        (IReadOnlyList<WriteAttempt> attempts, IReadOnlyList<WriteAck> acks) = cluster.History.Snapshot();
        WriteAck[] late = [.. acks.Where(a => a.StartedAt > twoDown + cluster.LeaseTtl && a.StartedAt < watchedUntil)];
        int tried = attempts.Count(a => a.StartedAt > twoDown + cluster.LeaseTtl && a.StartedAt < watchedUntil);

        cluster.Etcd.RestartMember(0);
        cluster.Etcd.RestartMember(1);
        await cluster.Etcd.WaitHealthyAsync(cluster.Etcd.Members[0]);
        TimeSpan back = cluster.Clock.Elapsed;
        WriteAck resumed = await cluster.WaitForAckAsync(a => a.StartedAt > back, "after etcd's quorum returned");
        HistoryVerdict verdict = await cluster.CheckAsync();

        output.WriteLine($"writes sent more than a TTL after quorum was lost: {tried}, acknowledged: {late.Length}; first ack after quorum returned {(resumed.AckedAt - back).TotalMilliseconds:0} ms later, by {resumed.Node}; {verdict}");
        Assert.True(tried > 0, "no write was sent in the observation window: the test observed nothing");
        Assert.True(late.Length == 0, $"acknowledged without quorum: {string.Join(", ", late.Select(a => a.ToString()))}\n{cluster.Output}");
        Assert.True(verdict.Violations.Count == 0, $"{verdict}\n{cluster.Output}");
        Assert.Empty(verdict.Lost);
    }
}
