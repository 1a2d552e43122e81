namespace OxiVec.Cluster;

/// <summary>Who leads, as stored in the leader key.</summary>
/// <param name="NodeId">The leader's node id.</param>
/// <param name="HttpUrl">Its REST address (clients' writes go there).</param>
/// <param name="GrpcUrl">Its replication address (standbys stream from it).</param>
/// <param name="Epoch">The leader key's creation revision (0 in a candidate not yet elected).</param>
public sealed record LeaderInfo(string NodeId, string HttpUrl, string GrpcUrl, long Epoch = 0);

/// <summary>Leadership held: the lease the leader key is bound to.</summary>
/// <param name="Leader">The leader key's content, with its epoch.</param>
/// <param name="LeaseId">The coordinator's lease id.</param>
/// <param name="Ttl">The TTL the lease was granted with.</param>
public sealed record LeadershipLease(LeaderInfo Leader, long LeaseId, TimeSpan Ttl)
{
    /// <summary>The epoch: the leader key's creation revision, unique and growing across leaders.</summary>
    public long Epoch => Leader.Epoch;
}

/// <summary>The answer to a renewal.</summary>
/// <param name="Held">Whether the lease is alive and the leader key still bound to it.</param>
/// <param name="GrantedTtl">The TTL the coordinator granted from this renewal (zero when not held).</param>
public sealed record LeaseRenewal(bool Held, TimeSpan GrantedTtl);

/// <summary>A member's role as it publishes it.</summary>
public enum MemberRole
{
    /// <summary>Starting, recovering, or between roles.</summary>
    Starting,

    /// <summary>The leader, serving writes.</summary>
    Primary,

    /// <summary>Following the leader.</summary>
    Standby,

    /// <summary>A deposed primary rewinding its log to rejoin as a standby.</summary>
    Rewinding,
}

/// <summary>A member's published state.</summary>
/// <param name="NodeId">Its node id.</param>
/// <param name="Role">Its role.</param>
/// <param name="HttpUrl">Its REST address.</param>
/// <param name="GrpcUrl">Its replication address.</param>
/// <param name="Epoch">The highest epoch it has seen (fencing; not what elections rank by).</param>
/// <param name="FlushedLsn">Its last durable LSN.</param>
/// <param name="AppliedLsn">Its last applied LSN.</param>
/// <param name="UpdatedUnixMs">When it published this (its wall clock, for display only).</param>
/// <param name="TimelineEpoch">The epoch its last durable record belongs to by its epoch history (0: the root
/// timeline, before any promotion). Elections rank by it, then by <paramref name="FlushedLsn"/>: having heard of a
/// newer epoch is no reason to lead.</param>
public sealed record MemberState(
    string NodeId, MemberRole Role, string HttpUrl, string GrpcUrl, long Epoch, long FlushedLsn, long AppliedLsn, long UpdatedUnixMs, long TimelineEpoch = 0);

/// <summary>The synchronous set the leader publishes: the standbys confirmed caught up, the only ones that may be promoted in sync and quorum modes.</summary>
/// <param name="Leader">The leader that published it.</param>
/// <param name="Epoch">Its epoch.</param>
/// <param name="Members">The node ids of the synchronous standbys.</param>
public sealed record SyncState(string Leader, long Epoch, IReadOnlyList<string> Members);

/// <summary>The last position a leader recorded (Patroni's <c>/optime/leader</c>): candidates farther behind than the maximum lag on failover do not run.</summary>
/// <param name="NodeId">The leader.</param>
/// <param name="Epoch">Its epoch.</param>
/// <param name="Lsn">Its last durable LSN when it recorded this.</param>
public sealed record LeaderPosition(string NodeId, long Epoch, long Lsn);

/// <summary>A planned switchover: the leader hands over to <paramref name="Target"/> once it has caught up.</summary>
/// <param name="Target">The node id to promote.</param>
/// <param name="RequestedUnixMs">When it was requested.</param>
public sealed record SwitchoverRequest(string Target, long RequestedUnixMs);

/// <summary>What changed.</summary>
public enum ClusterChangeKind
{
    /// <summary>The leader key was created or changed.</summary>
    LeaderChanged,

    /// <summary>The leader key was deleted or its lease expired: nobody leads.</summary>
    LeaderLost,

    /// <summary>A member's state was published, changed or expired.</summary>
    MembersChanged,

    /// <summary>The synchronous set changed.</summary>
    SyncChanged,

    /// <summary>A switchover was requested or cleared.</summary>
    SwitchoverChanged,
}

/// <summary>A change to the cluster's keys.</summary>
/// <param name="Kind">What changed.</param>
/// <param name="Revision">The coordinator's revision of the change.</param>
public sealed record ClusterChange(ClusterChangeKind Kind, long Revision);

/// <summary>The coordinator could not be reached or did not answer in time; nothing is known about the state it holds.</summary>
public sealed class CoordinatorUnavailableException : Exception
{
    /// <summary>Creates the exception.</summary>
    public CoordinatorUnavailableException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public CoordinatorUnavailableException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and its cause.</summary>
    public CoordinatorUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
