namespace OxiVec.Cluster;

/// <summary>
/// The cluster's coordinator: an external, trusted store (etcd) that decides who leads. Leadership is a key bound
/// to a lease, taken only when the key does not exist; the key's creation revision is the leader's epoch, which
/// replication stamps on every batch. Members publish their state under their own leases; the leader publishes the
/// synchronous set. Every call is bounded by its <see cref="CancellationToken"/>; a coordinator that cannot be
/// reached throws <see cref="CoordinatorUnavailableException"/> and never answers for it.
/// </summary>
public interface ICoordinator : IAsyncDisposable
{
    /// <summary>
    /// Takes leadership of the cluster if nobody holds it: creates the leader key bound to a new lease of
    /// <paramref name="ttl"/> in one transaction that succeeds only if the key does not exist.
    /// </summary>
    /// <returns>The lease held (its epoch is the key's creation revision), or null when another node leads.</returns>
    Task<LeadershipLease?> TryAcquireLeadershipAsync(LeaderInfo candidate, TimeSpan ttl, CancellationToken cancellationToken);

    /// <summary>
    /// Renews <paramref name="lease"/> once (a keepalive) and checks that the leader key is still this lease's.
    /// The caller measures its own deadline: leadership is certain until the monotonic time at which it sent this
    /// request plus <see cref="LeaseRenewal.GrantedTtl"/>.
    /// </summary>
    /// <returns>Whether leadership is still held, and the TTL etcd granted.</returns>
    Task<LeaseRenewal> RenewAsync(LeadershipLease lease, CancellationToken cancellationToken);

    /// <summary>Gives leadership up: deletes the leader key if it is still this lease's, and revokes the lease.</summary>
    Task ResignAsync(LeadershipLease lease, CancellationToken cancellationToken);

    /// <summary>The current leader, or null when nobody leads.</summary>
    Task<LeaderInfo?> GetLeaderAsync(CancellationToken cancellationToken);

    /// <summary>Publishes this member's state under its own lease of <paramref name="ttl"/> (created on first use, renewed by each call).</summary>
    Task PublishMemberAsync(MemberState state, TimeSpan ttl, CancellationToken cancellationToken);

    /// <summary>The members whose state is published (their leases alive), by node id.</summary>
    Task<IReadOnlyList<MemberState>> GetMembersAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Publishes the synchronous set (Patroni's <c>/sync</c> key), only while <paramref name="lease"/> still holds
    /// leadership (one transaction comparing the leader key).
    /// </summary>
    /// <returns>False when leadership was lost; nothing was written.</returns>
    Task<bool> SetSyncStateAsync(SyncState state, LeadershipLease lease, CancellationToken cancellationToken);

    /// <summary>The published synchronous set, or null when none was published.</summary>
    Task<SyncState?> GetSyncStateAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Records the leader's last position (Patroni's <c>/optime/leader</c>), only while <paramref name="lease"/> still
    /// holds leadership; the key outlives the lease, so candidates know how far the dead leader had got.
    /// </summary>
    /// <returns>False when leadership was lost; nothing was written.</returns>
    Task<bool> SetLeaderPositionAsync(LeaderPosition position, LeadershipLease lease, CancellationToken cancellationToken);

    /// <summary>The last leader position recorded, or null when none was.</summary>
    Task<LeaderPosition?> GetLeaderPositionAsync(CancellationToken cancellationToken);

    /// <summary>Asks for a planned switchover to <see cref="SwitchoverRequest.Target"/> (the leader acts on it), or clears the request (null).</summary>
    Task SetSwitchoverAsync(SwitchoverRequest? request, CancellationToken cancellationToken);

    /// <summary>The pending switchover request, or null.</summary>
    Task<SwitchoverRequest?> GetSwitchoverAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Changes to the cluster's keys (leader, members, sync set, switchover) from now on, until cancelled. A watch that
    /// breaks (the coordinator unreachable) ends with <see cref="CoordinatorUnavailableException"/>; callers re-read state
    /// and watch again.
    /// </summary>
    IAsyncEnumerable<ClusterChange> WatchAsync(CancellationToken cancellationToken);
}
