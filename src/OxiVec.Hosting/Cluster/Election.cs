using OxiVec.Cluster;

namespace OxiVec.Hosting.Cluster;

/// <summary>Whether a node should try to take leadership, and why (or why not).</summary>
/// <param name="Try">True: try to acquire the leader key now.</param>
/// <param name="Reason">Why, for the log and <c>GET /oxivec/cluster</c>.</param>
public sealed record ElectionDecision(bool Try, string Reason);

/// <summary>
/// The election rule a candidate applies while nobody leads (Patroni's): only eligible members may lead, and among
/// them the one with the newest log: the epoch its last record belongs to (its timeline, as PostgreSQL compares the
/// timelines of the last records, not the newest epoch a node has heard of), then the highest flushed LSN, then the
/// smallest node id; a member that holds no record never beats one that does.
/// </summary>
/// <remarks>
/// <para>Eligible: in async mode, or before any synchronous set was published (the first start), every member; in
/// sync and quorum modes, the members of the published <see cref="SyncState"/> (the standbys commits could wait for)
/// and the leader that published it.</para>
/// <para>Sure to have every acknowledged write: each commit acknowledged in sync or quorum mode is on at least
/// <c>n</c> members of the set <c>S</c>; a candidate that sees (live, not just published) the old leader, or at least
/// <c>|S| - n + 1</c> members of <c>S</c>, and is the newest of those it sees, holds every acknowledged write. A
/// candidate that sees fewer does not try: the cluster waits (an operator may intervene, docs/failover.md).</para>
/// <para>Patroni's <c>maximum_lag_on_failover</c>: a candidate further behind the last leader position it saw than
/// the configured number of records does not try either (in every mode; a switchover's target is exempt), and a
/// candidate that holds no record at all never tries once it saw a leader that had written.</para>
/// </remarks>
public static class Election
{
    /// <summary>Decides for <paramref name="self"/> given the members it sees (their live positions), the published synchronous set and a pending switchover.</summary>
    /// <param name="self">This node's own state (its current position).</param>
    /// <param name="visible">The members this node sees now, with their live positions (may include <paramref name="self"/>; a member that says it is the primary is left out).</param>
    /// <param name="sync">The published synchronous set, or null.</param>
    /// <param name="mode">The cluster's replication mode.</param>
    /// <param name="syncStandbys">How many standbys confirm each commit in sync and quorum modes.</param>
    /// <param name="switchover">A pending planned switchover, or null.</param>
    /// <param name="lastLeaderLsn">The last position of a leader this node saw (0: none seen since it started).</param>
    /// <param name="maximumLag">How many records behind <paramref name="lastLeaderLsn"/> a candidate may be and still try.</param>
    public static ElectionDecision Decide(
        MemberState self, IReadOnlyList<MemberState> visible, SyncState? sync, ClusterReplicationMode mode, int syncStandbys, SwitchoverRequest? switchover,
        long lastLeaderLsn = 0, long maximumLag = long.MaxValue)
    {
        ArgumentNullException.ThrowIfNull(self);
        ArgumentNullException.ThrowIfNull(visible);
        if (switchover is not null)
        {
            return switchover.Target == self.NodeId
                ? new ElectionDecision(true, $"a switchover to this node ('{self.NodeId}') is pending")
                : new ElectionDecision(false, $"a switchover to '{switchover.Target}' is pending: only it may take over");
        }

        if (lastLeaderLsn > 0 && lastLeaderLsn - self.FlushedLsn > maximumLag)
        {
            return new ElectionDecision(false, $"this node is {lastLeaderLsn - self.FlushedLsn} records behind the last leader position it saw (LSN {lastLeaderLsn}; it has {self.FlushedLsn}), more than the maximum lag on failover ({maximumLag})");
        }

        if (lastLeaderLsn > 0 && self.FlushedLsn == 0)
        {
            // A fresh base backup (or an empty node) never takes over from a leader that had written: the node that
            // holds those records would be rewound to nothing when it returns.
            return new ElectionDecision(false, $"this node holds no record while the last leader it saw had written through LSN {lastLeaderLsn}: it never leads over data it lacks");
        }

        // A member that still says it is the primary is the deposed leader (cut off from the coordinator, its fence
        // closed): it is no candidate, and it covers nothing (the writes it acknowledged are on the synchronous set).
        var others = visible.Where(m => m.NodeId != self.NodeId && m.Role != MemberRole.Primary).ToList();
        var seen = new HashSet<string>(others.Select(m => m.NodeId), StringComparer.Ordinal) { self.NodeId };
        Func<string, bool> eligible = _ => true;
        if (mode != ClusterReplicationMode.Async && sync is not null)
        {
            var set = new HashSet<string>(sync.Members, StringComparer.Ordinal);
            eligible = id => set.Contains(id) || id == sync.Leader;
            if (!eligible(self.NodeId))
            {
                return new ElectionDecision(false, $"this node is not in the synchronous set published by '{sync.Leader}' at epoch {sync.Epoch} ({string.Join(", ", sync.Members)}): it may lack acknowledged writes");
            }

            int needed = sync.Members.Count - syncStandbys + 1;
            int covered = sync.Members.Count(seen.Contains);
            if (!seen.Contains(sync.Leader) && covered < needed)
            {
                return new ElectionDecision(false, $"only {covered} of the synchronous set ({string.Join(", ", sync.Members)}) answer; {needed} are needed to be sure to hold every acknowledged write");
            }
        }

        if (others.Where(m => eligible(m.NodeId)).FirstOrDefault(m => IsAhead(m, self)) is { } ahead)
        {
            return new ElectionDecision(false, $"'{ahead.NodeId}' is ahead (last record of epoch {ahead.TimelineEpoch}, flushed LSN {ahead.FlushedLsn}; this node: epoch {self.TimelineEpoch}, LSN {self.FlushedLsn})");
        }

        return new ElectionDecision(true, $"the newest eligible member (last record of epoch {self.TimelineEpoch}, flushed LSN {self.FlushedLsn})");
    }

    /// <summary>
    /// Whether <paramref name="other"/> has the newer log: a member holding records beats one holding none (a fresh
    /// base backup, whatever epoch it heard of); then the epoch of the last record (<see cref="MemberState.TimelineEpoch"/>),
    /// then the flushed LSN; a tie goes to the smaller node id. The highest epoch a member has seen plays no part.
    /// </summary>
    public static bool IsAhead(MemberState other, MemberState self)
    {
        ArgumentNullException.ThrowIfNull(other);
        ArgumentNullException.ThrowIfNull(self);
        bool otherHasData = other.FlushedLsn > 0, selfHasData = self.FlushedLsn > 0;
        return otherHasData != selfHasData ? otherHasData
            : other.TimelineEpoch != self.TimelineEpoch ? other.TimelineEpoch > self.TimelineEpoch
            : other.FlushedLsn != self.FlushedLsn ? other.FlushedLsn > self.FlushedLsn
            : string.CompareOrdinal(other.NodeId, self.NodeId) < 0;
    }
}
