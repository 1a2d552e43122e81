namespace OxiVec.Storage;

/// <summary>What opening the database replayed (the guide's recovery statistics).</summary>
/// <param name="TotalEntries">WAL records read after the checkpoint.</param>
/// <param name="AppliedEntries">Records applied to the store.</param>
/// <param name="SkippedEntries">Records not applied: transaction markers, checkpoint and clock-step markers, members of transactions that never committed.</param>
/// <param name="CorruptedEntries">Damaged records skipped (0: corruption stops recovery).</param>
/// <param name="RecoveryTimeMs">Wall time of the replay.</param>
/// <param name="TornTailBytes">Bytes of a torn last write cut off when the WAL was opened.</param>
/// <param name="LastLsn">The last LSN in the WAL after recovery.</param>
public sealed record RecoveryStats(
    long TotalEntries, long AppliedEntries, long SkippedEntries, long CorruptedEntries, long RecoveryTimeMs, long TornTailBytes, long LastLsn)
{
    /// <summary>The LSN covered by the checkpoint recovery started from (0: replayed from the start of the WAL).</summary>
    public long CheckpointLsn { get; init; }

    /// <summary>Damaged ranges recovery passed over (only with <see cref="VectorDatabaseOptions.SkipCorruptedEntries"/>).</summary>
    public IReadOnlyList<OxiVec.Wal.WalSkippedRange> SkippedRanges { get; init; } = [];

    /// <summary>
    /// Point-in-time recovery to a time only: the frozen clock windows its target time falls inside (records there all
    /// carry one timestamp, so recovery by time restored none of them; recover to an LSN to split the window). Empty otherwise.
    /// </summary>
    public IReadOnlyList<OxiVec.Recovery.FrozenClockWindow> FrozenClockWindows { get; init; } = [];
}

/// <summary>Recovery took longer than <see cref="VectorDatabaseOptions.MaxRecoveryTimeMs"/>.</summary>
public sealed class RecoveryTimeoutException : TimeoutException
{
    /// <summary>Creates the exception.</summary>
    public RecoveryTimeoutException(string message)
        : base(message)
    {
    }
}

/// <summary>A checkpoint written or loaded.</summary>
/// <param name="Sequence">Its sequence number (1, 2, ...).</param>
/// <param name="CoveredLsn">The last LSN whose effect it contains.</param>
/// <param name="Path">Its directory.</param>
/// <param name="Bytes">Bytes written (0 when loaded).</param>
/// <param name="DurationMs">Time to write it (0 when loaded).</param>
/// <param name="WriteStallMs">How long writes were excluded while the collections were captured (the files are streamed afterwards, while writes go on).</param>
public sealed record CheckpointInfo(long Sequence, long CoveredLsn, string Path, long Bytes, long DurationMs, double WriteStallMs)
{
    /// <summary>When it was written.</summary>
    public DateTimeOffset Created { get; init; }

    /// <summary>WAL segments the retention policy deleted after it.</summary>
    public int SegmentsRemoved { get; init; }

    /// <summary>Sealed WAL segments compressed after it.</summary>
    public int SegmentsCompressed { get; init; }
}
