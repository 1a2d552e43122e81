using OxiVec.Cluster;

namespace OxiVec.Hosting.Cluster;

/// <summary>A cluster member's view of its cluster, published by <see cref="ClusterNode"/> as one immutable value after each step.</summary>
/// <param name="Cluster">The cluster's name.</param>
/// <param name="Self">This member's own state, as last published.</param>
/// <param name="Leader">The leader, as last read (null: nobody leads, or not known yet).</param>
/// <param name="Members">The members whose state is published, as last read.</param>
/// <param name="Sync">The published synchronous set, as last read (null: none).</param>
/// <param name="Switchover">A pending switchover, as last read (null: none).</param>
/// <param name="LastDecision">What the node last decided (an election's outcome, a role change), for operators.</param>
/// <param name="LastError">The last step's error (the coordinator unreachable, a role that failed to open), or null.</param>
/// <param name="Fence">On the primary: why writes are refused now (null: they may be acknowledged); elsewhere null.</param>
public sealed record ClusterStatus(
    string Cluster, MemberState Self, LeaderInfo? Leader, IReadOnlyList<MemberState> Members, SyncState? Sync, SwitchoverRequest? Switchover,
    string? LastDecision, string? LastError, string? Fence);
