namespace OxiVec.Wal;

/// <summary>
/// One record received from a primary, checksum verified: the fields that make up the log's identity (LSN,
/// timestamp, type, flags, payload). The standby frames it in its own segments (its own salt, checksum and
/// durable distance).
/// </summary>
/// <param name="Lsn">The primary's LSN, kept as is.</param>
/// <param name="TimestampMicros">The primary's timestamp (µs since the Unix epoch), kept as is.</param>
/// <param name="Type">The record type.</param>
/// <param name="Flags">The record flags.</param>
/// <param name="Payload">The payload bytes.</param>
internal readonly record struct WalReplicatedRecord(long Lsn, long TimestampMicros, WalRecordType Type, WalRecordFlags Flags, ReadOnlyMemory<byte> Payload)
{
    /// <summary>The record as a <see cref="WalRecord"/> (for decoding and applying; no segment or offset).</summary>
    public WalRecord ToRecord() => new(Lsn, WalRecord.FromMicros(TimestampMicros), Type, Flags, Payload, "(replicated)", 0);
}
