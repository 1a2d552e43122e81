using System.Collections.Immutable;

namespace OxiVec.Replication;

/// <summary>A batch sent and not yet flushed by its standby: for lag in bytes and milliseconds.</summary>
internal readonly record struct InFlightBatch(long LastLsn, long Bytes, long FirstTimestampMicros);

/// <summary>One standby in the replicator's state (immutable; the state is replaced as a whole).</summary>
/// <param name="Name">The standby's name.</param>
/// <param name="ConnectionId">The stream serving it, 0 when none.</param>
/// <param name="WrittenLsn">Last reported written LSN.</param>
/// <param name="FlushedLsn">Last reported flushed LSN.</param>
/// <param name="AppliedLsn">Last reported applied LSN.</param>
/// <param name="SlotRetainFromLsn">The oldest LSN its slot keeps (0: no slot, or invalidated).</param>
/// <param name="SentLsn">The last LSN sent on the current stream.</param>
/// <param name="InFlight">Batches sent and not yet flushed, oldest first.</param>
internal sealed record StandbyEntry(
    string Name, long ConnectionId, long WrittenLsn, long FlushedLsn, long AppliedLsn, long SlotRetainFromLsn, long SentLsn, ImmutableQueue<InFlightBatch> InFlight)
{
    public bool Connected => ConnectionId != 0;

    /// <summary>The position the commit gate counts at <paramref name="level"/>.</summary>
    public long At(ReplicationAckLevel level) => level switch
    {
        ReplicationAckLevel.RemoteWrite => WrittenLsn,
        ReplicationAckLevel.RemoteFlush => FlushedLsn,
        _ => AppliedLsn,
    };
}

/// <summary>The replicator's whole state, published as one value.</summary>
internal sealed record ReplicatorState(ImmutableSortedDictionary<string, StandbyEntry> Standbys, IReadOnlySet<string> SyncSet, bool Degraded);
