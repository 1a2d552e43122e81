using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using OxiVec.Cluster;
using OxiVec.Hosting.Qdrant;

namespace OxiVec.Hosting.Cluster;

/// <summary>
/// <c>GET /oxivec/cluster</c>: the cluster as this member sees it (members, roles, epochs, LSNs, lags, the leader,
/// the synchronous set, a pending switchover, the last decision); <c>GET /oxivec/cluster/member</c>: this member's
/// live position (candidates ask each other during an election). 404 on a node that is not a cluster member.
/// </summary>
public static class ClusterEndpoints
{
    /// <summary>The path of the cluster's view.</summary>
    public const string Path = "/oxivec/cluster";

    /// <summary>Maps the endpoints.</summary>
    public static IEndpointRouteBuilder MapOxiVecCluster(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.MapGet(Path, (HttpContext context) =>
        {
            long started = Stopwatch.GetTimestamp();
            return context.RequestServices.GetService<ClusterNode>() is { } node
                ? QdrantResponse.Ok(ClusterView.From(node.Status with { Fence = node.WritesRefused }, node.NodeId), started)
                : QdrantResponse.Error(StatusCodes.Status404NotFound, "This node is not a cluster member (OxiVec:Cluster:Name is not set).", started);
        });
        endpoints.MapGet(ClusterNode.MemberPath, (HttpContext context) =>
        {
            long started = Stopwatch.GetTimestamp();
            return context.RequestServices.GetService<ClusterNode>() is { } node
                ? QdrantResponse.Ok(node.CurrentState(), started)
                : QdrantResponse.Error(StatusCodes.Status404NotFound, "This node is not a cluster member (OxiVec:Cluster:Name is not set).", started);
        });
        return endpoints;
    }
}

/// <summary>The answer of <c>GET /oxivec/cluster</c> (also what <c>oxivec cluster status</c> prints).</summary>
/// <param name="Cluster">The cluster's name.</param>
/// <param name="NodeId">The answering member.</param>
/// <param name="Leader">The leader's node id, or null.</param>
/// <param name="Epoch">The leader's epoch (0 when nobody leads).</param>
/// <param name="Members">Every published member: role, epoch, LSNs and lag behind the leader.</param>
/// <param name="SyncSet">The published synchronous set (sync and quorum modes), or null.</param>
/// <param name="Switchover">The target of a pending switchover, or null.</param>
/// <param name="LastDecision">The answering member's last decision.</param>
/// <param name="LastError">The answering member's last error, or null.</param>
/// <param name="WritesRefused">On the primary: why writes are refused now (the fence), or null.</param>
public sealed record ClusterView(
    string Cluster, string NodeId, string? Leader, long Epoch, IReadOnlyList<ClusterMemberView> Members, IReadOnlyList<string>? SyncSet, string? Switchover,
    string? LastDecision, string? LastError, string? WritesRefused)
{
    /// <summary>The view of <paramref name="status"/>.</summary>
    public static ClusterView From(ClusterStatus status, string nodeId)
    {
        ArgumentNullException.ThrowIfNull(status);
        return new ClusterView(
            status.Cluster, nodeId, status.Leader?.NodeId, status.Leader?.Epoch ?? 0,
            ClusterMemberView.From(status.Members, status.Leader, status.Sync), status.Sync?.Members, status.Switchover?.Target,
            status.LastDecision, status.LastError, status.Fence);
    }
}

/// <summary>One member in <see cref="ClusterView"/>.</summary>
/// <param name="NodeId">Its node id.</param>
/// <param name="Role"><c>primary</c>, <c>standby</c>, <c>starting</c> or <c>rewinding</c>, as it publishes it.</param>
/// <param name="Leader">Whether it holds the leader key.</param>
/// <param name="Synchronous">Whether it is in the published synchronous set.</param>
/// <param name="HttpUrl">Its REST address.</param>
/// <param name="GrpcUrl">Its replication address.</param>
/// <param name="Epoch">The highest epoch it has seen.</param>
/// <param name="FlushedLsn">Its last durable LSN.</param>
/// <param name="AppliedLsn">Its last applied LSN.</param>
/// <param name="LagLsn">The leader's flushed LSN minus its own (0 for the leader; null when no leader is published).</param>
/// <param name="UpdatedUnixMs">When it last published (its clock).</param>
public sealed record ClusterMemberView(
    string NodeId, string Role, bool Leader, bool Synchronous, string HttpUrl, string GrpcUrl, long Epoch, long FlushedLsn, long AppliedLsn, long? LagLsn, long UpdatedUnixMs)
{
    /// <summary>The views of <paramref name="members"/>, by node id.</summary>
    public static IReadOnlyList<ClusterMemberView> From(IReadOnlyList<MemberState> members, LeaderInfo? leader, SyncState? sync)
    {
        ArgumentNullException.ThrowIfNull(members);
        MemberState? leading = leader is null ? null : members.FirstOrDefault(m => m.NodeId == leader.NodeId);
        return [.. members.OrderBy(m => m.NodeId, StringComparer.Ordinal).Select(m => new ClusterMemberView(
            m.NodeId, m.Role.ToString().ToLowerInvariant(), m.NodeId == leader?.NodeId, sync?.Members.Contains(m.NodeId) == true,
            m.HttpUrl, m.GrpcUrl, m.Epoch, m.FlushedLsn, m.AppliedLsn, leading is null ? null : Math.Max(0, leading.FlushedLsn - m.FlushedLsn), m.UpdatedUnixMs))];
    }
}
