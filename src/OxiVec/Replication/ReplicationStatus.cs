namespace OxiVec.Replication;

/// <summary>A primary's view of its replication, as one consistent value.</summary>
/// <param name="Epoch">The primary's epoch.</param>
/// <param name="LastLsn">The newest LSN written on the primary.</param>
/// <param name="FlushedLsn">The newest LSN durable on the primary.</param>
/// <param name="Degraded">True while synchronous commits are acknowledged without enough standbys (<see cref="TooFewStandbysBehavior.DegradeToAsync"/>).</param>
/// <param name="Standbys">Every registered standby (connected or not).</param>
public sealed record ReplicationStatus(long Epoch, long LastLsn, long FlushedLsn, bool Degraded, IReadOnlyList<StandbyStatus> Standbys);

/// <summary>One standby as its primary sees it.</summary>
/// <param name="Name">The standby's name.</param>
/// <param name="Connected">Whether a stream is open.</param>
/// <param name="Synchronous">Whether it is in the synchronous set now (commits wait for it).</param>
/// <param name="WrittenLsn">Last reported written LSN.</param>
/// <param name="FlushedLsn">Last reported flushed LSN.</param>
/// <param name="AppliedLsn">Last reported applied LSN.</param>
/// <param name="SlotRetainFromLsn">The oldest LSN its slot keeps (0 when it has no slot, or lost it).</param>
/// <param name="LagBytes">WAL bytes written on the primary after the standby's flushed LSN.</param>
/// <param name="LagMs">Milliseconds since the primary wrote the oldest record the standby has not flushed (0 when caught up).</param>
public sealed record StandbyStatus(
    string Name, bool Connected, bool Synchronous, long WrittenLsn, long FlushedLsn, long AppliedLsn, long SlotRetainFromLsn, long LagBytes, double LagMs);
