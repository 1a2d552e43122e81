namespace OxiVec.Wal;

/// <summary>One record as stored in the log: header fields, raw payload and where it lives.</summary>
/// <param name="Lsn">The log sequence number.</param>
/// <param name="Timestamp">When it was appended (UTC, microseconds).</param>
/// <param name="Type">The record type.</param>
/// <param name="Flags">The record flags.</param>
/// <param name="Payload">The payload bytes (a copy owned by this record).</param>
/// <param name="SegmentFile">The segment file's name.</param>
/// <param name="Offset">The byte offset of the record within the segment file.</param>
public sealed record WalRecord(
    long Lsn, DateTimeOffset Timestamp, WalRecordType Type, WalRecordFlags Flags, ReadOnlyMemory<byte> Payload,
    string SegmentFile, long Offset)
{
    /// <summary>Decodes the payload into a <see cref="WalEntry"/>.</summary>
    /// <exception cref="WalCorruptionException">The payload does not decode (a bug or a format mismatch, as its checksum was valid).</exception>
    public WalEntry ToEntry()
    {
        try
        {
            return WalEntryCodec.Decode(Type, Payload.Span, Lsn, Timestamp);
        }
        catch (InvalidDataException ex)
        {
            throw new WalCorruptionException(SegmentFile, Offset, $"LSN {Lsn}: {ex.Message}", ex);
        }
    }

    internal static DateTimeOffset FromMicros(long unixMicros) =>
        DateTimeOffset.UnixEpoch.AddTicks(unixMicros * TimeSpan.TicksPerMicrosecond);

    internal static long ToMicros(DateTimeOffset time) =>
        (time.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / TimeSpan.TicksPerMicrosecond;
}
