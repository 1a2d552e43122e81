namespace OxiVec.Storage;

/// <summary>What opening the database replayed (the guide's recovery statistics).</summary>
/// <param name="TotalEntries">WAL records read.</param>
/// <param name="AppliedEntries">Records applied to the store.</param>
/// <param name="SkippedEntries">Records not applied: transaction markers, checkpoint markers, members of transactions that never committed.</param>
/// <param name="CorruptedEntries">Damaged records skipped (0: corruption stops recovery).</param>
/// <param name="RecoveryTimeMs">Wall time of the replay.</param>
/// <param name="TornTailBytes">Bytes of a torn last write cut off when the WAL was opened.</param>
/// <param name="LastLsn">The last LSN in the WAL after recovery.</param>
public sealed record RecoveryStats(
    long TotalEntries, long AppliedEntries, long SkippedEntries, long CorruptedEntries, long RecoveryTimeMs, long TornTailBytes, long LastLsn);
