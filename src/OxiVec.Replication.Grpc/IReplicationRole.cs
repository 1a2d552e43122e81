namespace OxiVec.Replication.Grpc;

/// <summary>
/// What a node offers replication peers, read per call (the host publishes it once its database is open): a primary
/// has a <see cref="Replicator"/>, a standby waiting for pushes has <see cref="PushedStreams"/>.
/// </summary>
public interface IReplicationRole
{
    /// <summary>The primary's replicator, or null when this node is not (yet) a replicating primary.</summary>
    WalReplicator? Replicator { get; }

    /// <summary>Where pushed streams go on a standby that waits for its primary to dial it, or null.</summary>
    PushedStreams? PushedStreams { get; }

    /// <summary>What this node is, for a refusal's message (e.g. "a standby of http://10.0.0.5:6334").</summary>
    string Description { get; }
}
