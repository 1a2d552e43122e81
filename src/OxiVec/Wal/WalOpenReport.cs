namespace OxiVec.Wal;

/// <summary>What <see cref="WalManager.Open(WalConfig, Microsoft.Extensions.Logging.ILogger?, TimeProvider?, System.Diagnostics.Metrics.IMeterFactory?)"/> found and repaired.</summary>
/// <param name="SegmentCount">Segment files found (1 for a new WAL).</param>
/// <param name="LastLsn">The last valid LSN (0 for an empty WAL).</param>
/// <param name="TornTailBytes">Bytes of a torn last write that were cut off (0 when the log ended cleanly).</param>
/// <param name="TornTailFile">The segment the torn write was in, when there was one.</param>
/// <param name="TornTailOffset">Where the cut was made, when there was one.</param>
/// <param name="TornTailReason">What was wrong with the first torn record.</param>
/// <param name="AbortedTransactionLsn">
/// The begin LSN of a transaction left open by the crash (0 when its begin record is in an earlier segment), for
/// which an abort record was written; null when no transaction was open.
/// </param>
/// <param name="IsNew">True when the directory held no WAL and one was created.</param>
public sealed record WalOpenReport(
    int SegmentCount, long LastLsn, long TornTailBytes, string? TornTailFile, long TornTailOffset, string? TornTailReason,
    long? AbortedTransactionLsn, bool IsNew)
{
    /// <summary>Damaged ranges passed over when the WAL was opened to skip corrupted entries (empty otherwise).</summary>
    public IReadOnlyList<WalSkippedRange> SkippedRanges { get; init; } = [];

    /// <summary>
    /// Where the bytes of the torn tail were copied before they were cut, relative to the WAL directory
    /// (<c>quarantine/&lt;segment&gt;.&lt;offset&gt;.broken</c>); null when nothing was cut.
    /// </summary>
    public string? TornTailQuarantineFile { get; init; }
}
