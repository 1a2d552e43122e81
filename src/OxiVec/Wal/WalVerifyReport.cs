namespace OxiVec.Wal;

/// <summary>The kind of a problem <see cref="WalReader.Verify"/> found.</summary>
public enum WalIssueKind
{
    /// <summary>The last write was cut short by a crash; opening the WAL cuts it off. Not an error.</summary>
    TornTail,

    /// <summary>Damaged data that held (or may have held) acknowledged records.</summary>
    Corruption,
}

/// <summary>A problem found by verification, with the file and byte offset where it starts.</summary>
/// <param name="Kind">Torn tail or corruption.</param>
/// <param name="SegmentFile">The segment file's name.</param>
/// <param name="Offset">Byte offset within the file.</param>
/// <param name="Lsn">The LSN expected at that place.</param>
/// <param name="Bytes">How many bytes are affected (from <paramref name="Offset"/> to the last non-zero byte), when known.</param>
/// <param name="Message">What is wrong.</param>
public sealed record WalIssue(WalIssueKind Kind, string SegmentFile, long Offset, long Lsn, long Bytes, string Message);

/// <summary>One segment's verification result.</summary>
/// <param name="File">The segment file's name.</param>
/// <param name="SegmentId">The segment id.</param>
/// <param name="FirstLsn">The first LSN the segment's header names.</param>
/// <param name="LastLsn">The last valid LSN in the segment (FirstLsn - 1 when it holds none).</param>
/// <param name="Records">How many records passed verification.</param>
/// <param name="ValidBytes">Bytes up to the end of the last valid record.</param>
public sealed record WalSegmentReport(string File, ulong SegmentId, long FirstLsn, long LastLsn, long Records, long ValidBytes);

/// <summary>The result of verifying every record of a WAL (the guide's <c>verify_wal</c>).</summary>
/// <param name="Directory">The WAL directory.</param>
/// <param name="Segments">Each segment, in log order.</param>
/// <param name="Issues">Torn tails and corruption found.</param>
public sealed record WalVerifyReport(string Directory, IReadOnlyList<WalSegmentReport> Segments, IReadOnlyList<WalIssue> Issues)
{
    /// <summary>Records whose checksum and framing were valid.</summary>
    public long ValidRecords => Segments.Sum(s => s.Records);

    /// <summary>True when nothing but (at most) a torn tail was found: every acknowledged record is intact.</summary>
    public bool IsValid => Issues.All(i => i.Kind == WalIssueKind.TornTail);
}
