using OxiVec.Cluster;
using OxiVec.Hosting.Cluster;

namespace OxiVec.Server.Tests.Cluster;

/// <summary>The election rule (<see cref="Election.Decide"/>): who may try to lead while nobody does.</summary>
public sealed class ElectionTests
{
    /// <summary>A member whose last record is of <paramref name="epoch"/> (its timeline), unless <paramref name="timeline"/> says otherwise.</summary>
    private static MemberState Member(string id, long epoch, long flushed, MemberRole role = MemberRole.Standby, long? timeline = null) =>
        new(id, role, $"http://{id}", $"http://{id}:1", epoch, flushed, flushed, 0, timeline ?? epoch);

    [Fact]
    public void Async_AFreshBaseBackupThatHeardOfANewerEpoch_NeverBeatsARestartedMemberHoldingAcknowledgedRecords()
    {
        // The ClusterTests async kill run: c had just installed a base backup (flushed LSN 0, no record of any epoch)
        // from a leader of epoch 9; a, restarted, holds acknowledged records of epoch 7 through LSN 500.
        MemberState restarted = Member("a", 7, 500), fresh = Member("c", 9, 0, timeline: 0);
        Assert.True(Election.Decide(restarted, [restarted, fresh], null, ClusterReplicationMode.Async, 1, null).Try);
        ElectionDecision decision = Election.Decide(fresh, [restarted, fresh], null, ClusterReplicationMode.Async, 1, null);
        Assert.False(decision.Try);
        Assert.Contains("'a' is ahead", decision.Reason);
        Assert.True(Election.IsAhead(restarted, fresh));
        Assert.False(Election.IsAhead(fresh, restarted));
    }

    [Fact]
    public void AMemberThatHeardOfANewerEpoch_WithoutItsRecords_RanksByTheEpochOfItsLastRecord()
    {
        // b saw epoch 9 (a keepalive, a manifest) but its last record is of epoch 7, like a's longer log.
        MemberState a = Member("a", 7, 150), b = Member("b", 9, 100, timeline: 7);
        Assert.True(Election.Decide(a, [a, b], null, ClusterReplicationMode.Async, 1, null).Try);
        Assert.False(Election.Decide(b, [a, b], null, ClusterReplicationMode.Async, 1, null).Try);

        // Records of epoch 9 do rank above a longer log of epoch 7.
        MemberState c = Member("c", 9, 120, timeline: 9);
        Assert.True(Election.Decide(c, [a, c], null, ClusterReplicationMode.Async, 1, null).Try);
        Assert.False(Election.Decide(a, [a, c], null, ClusterReplicationMode.Async, 1, null).Try);
    }

    [Fact]
    public void AMemberHoldingNoRecord_NeverTries_OnceItSawALeaderThatHadWritten_EvenAlone()
    {
        // The first kill of the ClusterTests async run: both standbys had just installed their base backups (LSN 0)
        // when the primary, at LSN 10, was killed; one of them led, and the restarted primary's records were replaced.
        MemberState empty = Member("c", 21, 0, timeline: 0), other = Member("b", 21, 0, timeline: 0);
        ElectionDecision decision = Election.Decide(empty, [empty, other], null, ClusterReplicationMode.Async, 1, null, lastLeaderLsn: 10, maximumLag: 4_096);
        Assert.False(decision.Try);
        Assert.Contains("holds no record", decision.Reason);
        Assert.False(Election.Decide(other, [empty, other], null, ClusterReplicationMode.Async, 1, null, lastLeaderLsn: 10, maximumLag: 4_096).Try); // nor the tie's winner
        Assert.True(Election.Decide(other, [empty, other], null, ClusterReplicationMode.Async, 1, null, lastLeaderLsn: 0, maximumLag: 4_096).Try); // a new cluster: nothing written yet
    }

    [Fact]
    public void ACandidateFurtherBehindTheLastLeaderPositionThanTheMaximumLag_DoesNotTry_UnlessASwitchoverNamesIt()
    {
        MemberState lagging = Member("b", 7, 1_000);
        ElectionDecision refused = Election.Decide(lagging, [lagging], null, ClusterReplicationMode.Async, 1, null, lastLeaderLsn: 6_000, maximumLag: 4_096);
        Assert.False(refused.Try);
        Assert.Contains("5000 records behind", refused.Reason);
        Assert.True(Election.Decide(lagging, [lagging], null, ClusterReplicationMode.Async, 1, null, lastLeaderLsn: 5_096, maximumLag: 4_096).Try); // exactly the limit
        Assert.True(Election.Decide(lagging, [lagging], null, ClusterReplicationMode.Async, 1, null, lastLeaderLsn: 0, maximumLag: 0).Try); // no leader seen since it started
        Assert.True(Election.Decide(lagging, [lagging], null, ClusterReplicationMode.Async, 1, new SwitchoverRequest("b", 0), lastLeaderLsn: 6_000, maximumLag: 0).Try);
    }

    [Fact]
    public void NobodyLeads_OnlyTheEligibleMemberWithTheHighestFlushedLsnTries()
    {
        MemberState a = Member("a", 5, 100), b = Member("b", 5, 120), c = Member("c", 5, 90);
        MemberState[] all = [a, b, c];
        Assert.False(Election.Decide(a, all, null, ClusterReplicationMode.Async, 1, null).Try);
        Assert.True(Election.Decide(b, all, null, ClusterReplicationMode.Async, 1, null).Try);
        Assert.False(Election.Decide(c, all, null, ClusterReplicationMode.Async, 1, null).Try);
    }

    [Fact]
    public void FirstStart_WithoutASyncSet_TheHighestLsnLeads_AndATieGoesToTheSmallestNodeId()
    {
        MemberState a = Member("a", 0, 0), b = Member("b", 0, 0);
        Assert.True(Election.Decide(a, [a, b], null, ClusterReplicationMode.Sync, 1, null).Try);
        Assert.False(Election.Decide(b, [a, b], null, ClusterReplicationMode.Sync, 1, null).Try);
    }

    [Fact]
    public void ANewerEpoch_BeatsALongerLogFromAnOlderEpoch()
    {
        // A deposed primary's divergent tail (epoch 3, LSN 200) never wins over the history of epoch 7.
        MemberState deposed = Member("a", 3, 200), follower = Member("b", 7, 150);
        Assert.False(Election.Decide(deposed, [deposed, follower], null, ClusterReplicationMode.Async, 1, null).Try);
        Assert.True(Election.Decide(follower, [deposed, follower], null, ClusterReplicationMode.Async, 1, null).Try);
    }

    [Theory]
    [InlineData(ClusterReplicationMode.Sync)]
    [InlineData(ClusterReplicationMode.Quorum)]
    public void SyncAndQuorumModes_AMemberOutsideThePublishedSyncSet_NeverTries_EvenWhenItIsAhead(ClusterReplicationMode mode)
    {
        var sync = new SyncState("a", 7, ["b"]);
        MemberState b = Member("b", 7, 100), c = Member("c", 7, 500);
        ElectionDecision decision = Election.Decide(c, [b, c], sync, mode, 1, null);
        Assert.False(decision.Try);
        Assert.Contains("not in the synchronous set", decision.Reason, StringComparison.Ordinal);
        Assert.True(Election.Decide(b, [b, c], sync, mode, 1, null).Try); // c is not eligible, so it does not count as ahead
        Assert.True(Election.Decide(c, [b, c], sync, ClusterReplicationMode.Async, 1, null).Try); // in async mode it may
    }

    [Fact]
    public void QuorumMode_ACandidateThatSeesTooFewOfTheSyncSet_DoesNotTry_ItCouldLackAnAcknowledgedWrite()
    {
        // ANY 1 (b, c, d): a write acknowledged by d alone is on d only; b must see 3 - 1 + 1 = 3 of them.
        var sync = new SyncState("a", 7, ["b", "c", "d"]);
        MemberState b = Member("b", 7, 100), c = Member("c", 7, 90), d = Member("d", 7, 80);
        Assert.False(Election.Decide(b, [b, c], sync, ClusterReplicationMode.Quorum, 1, null).Try);
        Assert.True(Election.Decide(b, [b, c, d], sync, ClusterReplicationMode.Quorum, 1, null).Try);

        // ANY 2: every write is on two of three, so seeing two of them is enough.
        Assert.True(Election.Decide(b, [b, c], sync, ClusterReplicationMode.Quorum, 2, null).Try);
    }

    [Fact]
    public void TheDeposedLeaderStillClaimingThePrimaryRole_NeitherBlocksNorCoversAnElection()
    {
        var sync = new SyncState("a", 7, ["b", "c"]);
        MemberState a = Member("a", 7, 500, MemberRole.Primary), b = Member("b", 7, 100), c = Member("c", 7, 90);
        Assert.False(Election.Decide(b, [a, b], sync, ClusterReplicationMode.Sync, 1, null).Try); // a does not stand in for c
        Assert.True(Election.Decide(b, [a, b, c], sync, ClusterReplicationMode.Sync, 1, null).Try); // a, ahead but leading no more, does not block
    }

    [Fact]
    public void APendingSwitchover_LetsOnlyItsTargetTry()
    {
        MemberState b = Member("b", 7, 100), c = Member("c", 7, 90);
        var request = new SwitchoverRequest("c", 0);
        Assert.False(Election.Decide(b, [b, c], null, ClusterReplicationMode.Async, 1, request).Try);
        Assert.True(Election.Decide(c, [b, c], null, ClusterReplicationMode.Async, 1, request).Try);
    }
}
