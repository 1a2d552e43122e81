using System.Buffers.Binary;

namespace OxiVec.Wal;

/// <summary>
/// Replication frames (docs/wal-format.md, "Replication frames"): per record, the u32 salt of the primary segment it
/// was written in, then the record exactly as in that segment (32-byte header with its CRC-32C, payload, zero
/// padding to 8 bytes). A standby checks every frame before it writes anything.
/// </summary>
internal static class WalReplicationFrames
{
    /// <summary>Bytes before the record in a frame (the salt).</summary>
    public const int SaltSize = 4;

    /// <summary>The bytes of the frame of a record with <paramref name="payloadLength"/> bytes of payload.</summary>
    public static int FrameSize(int payloadLength) => SaltSize + WalFormat.RecordSize(payloadLength);

    /// <summary>
    /// Checks a batch's frames: each frame's framing, reserved bits, padding, record type and salted CRC-32C, that
    /// the LSNs run from <paramref name="firstLsn"/> to <paramref name="lastLsn"/> without a gap, and that the first is
    /// <paramref name="expectedFirstLsn"/> (the standby's last LSN + 1). Returns the records (their payloads slice
    /// <paramref name="frames"/>), or throws before anything is written.
    /// </summary>
    /// <exception cref="WalFrameException">A frame is invalid; the message names its LSN and offset in the batch.</exception>
    public static List<WalReplicatedRecord> Verify(ReadOnlyMemory<byte> frames, long expectedFirstLsn, long firstLsn, long lastLsn)
    {
        if (firstLsn != expectedFirstLsn)
        {
            throw new WalFrameException(firstLsn, 0, $"the batch starts at LSN {firstLsn}, but this log ends at LSN {expectedFirstLsn - 1}: LSN {expectedFirstLsn} must come next");
        }

        if (lastLsn < firstLsn)
        {
            throw new WalFrameException(firstLsn, 0, $"the batch says it ends at LSN {lastLsn}, before its first LSN {firstLsn}");
        }

        var records = new List<WalReplicatedRecord>((int)Math.Min(lastLsn - firstLsn + 1, 4096));
        ReadOnlySpan<byte> span = frames.Span;
        int offset = 0;
        long expected = firstLsn;
        while (offset < span.Length)
        {
            if (span.Length - offset < SaltSize + WalFormat.RecordHeaderSize)
            {
                throw new WalFrameException(expected, offset, $"{span.Length - offset} bytes left, fewer than a frame header ({SaltSize + WalFormat.RecordHeaderSize} bytes)");
            }

            uint salt = BinaryPrimitives.ReadUInt32LittleEndian(span[offset..]);
            ReadOnlySpan<byte> head = span.Slice(offset + SaltSize, WalFormat.RecordHeaderSize);
            WalRecordHeader h = WalFormat.ReadRecordHeader(head);
            if (h.Reserved != 0 || h.PayloadLength < 0 || h.PayloadLength > WalFormat.MaxPayloadLength)
            {
                throw new WalFrameException(expected, offset, $"impossible record header (length {h.PayloadLength}, reserved {h.Reserved})");
            }

            int size = WalFormat.RecordSize(h.PayloadLength);
            if (span.Length - offset - SaltSize < size)
            {
                throw new WalFrameException(expected, offset, $"the record of {size} bytes runs past the end of the batch");
            }

            ReadOnlySpan<byte> record = span.Slice(offset + SaltSize, size);
            ReadOnlySpan<byte> payload = record.Slice(WalFormat.RecordHeaderSize, h.PayloadLength);
            if (WalFormat.RecordChecksum(salt, record, payload) != h.Checksum)
            {
                throw new WalFrameException(expected, offset, "record checksum mismatch");
            }

            if (record[(WalFormat.RecordHeaderSize + h.PayloadLength)..].ContainsAnyExcept((byte)0))
            {
                throw new WalFrameException(expected, offset, "non-zero padding after the record");
            }

            if (h.Lsn != expected)
            {
                throw new WalFrameException(expected, offset, $"the record carries LSN {h.Lsn} where LSN {expected} was expected");
            }

            if (!Enum.IsDefined(h.Type))
            {
                throw new WalFrameException(expected, offset, $"unknown record type {(byte)h.Type}");
            }

            records.Add(new WalReplicatedRecord(h.Lsn, h.TimestampMicros, h.Type, h.Flags, frames.Slice(offset + SaltSize + WalFormat.RecordHeaderSize, h.PayloadLength)));
            offset += SaltSize + size;
            expected++;
        }

        if (expected - 1 != lastLsn)
        {
            throw new WalFrameException(expected, offset, $"the batch says it ends at LSN {lastLsn}, but its frames end at LSN {expected - 1}");
        }

        return records;
    }

    /// <summary>Writes the frame of a record (tests and tools: the tail reader copies frames from segments as they are).</summary>
    public static byte[] Encode(uint salt, long lsn, long timestampMicros, WalRecordType type, WalRecordFlags flags, uint durableDistance, ReadOnlySpan<byte> payload)
    {
        var frame = new byte[FrameSize(payload.Length)];
        BinaryPrimitives.WriteUInt32LittleEndian(frame, salt);
        Span<byte> record = frame.AsSpan(SaltSize);
        payload.CopyTo(record[WalFormat.RecordHeaderSize..]);
        WalFormat.WriteRecordHeader(record, salt, lsn, timestampMicros, type, flags, durableDistance, payload.Length);
        return frame;
    }
}

/// <summary>A replicated batch failed its checks; nothing of it was written.</summary>
public sealed class WalFrameException : IOException
{
    /// <summary>Creates the exception for the frame of <paramref name="lsn"/> at <paramref name="offset"/> of the batch.</summary>
    public WalFrameException(long lsn, long offset, string reason)
        : base($"Replicated WAL batch refused at LSN {lsn} (offset {offset} of the batch): {reason}; nothing of the batch was written.")
    {
        Lsn = lsn;
        Offset = offset;
        Reason = reason;
    }

    /// <summary>The LSN of the frame that failed (or that was expected).</summary>
    public long Lsn { get; }

    /// <summary>The frame's offset in the batch.</summary>
    public long Offset { get; }

    /// <summary>What was wrong.</summary>
    public string Reason { get; }
}

/// <summary>A read from an LSN needs a segment that retention has removed; a standby that needs it must take a base backup.</summary>
public sealed class WalSegmentRemovedException : IOException
{
    /// <summary>Creates the exception for <paramref name="lsn"/>, when the WAL now starts at <paramref name="firstRetainedLsn"/>.</summary>
    public WalSegmentRemovedException(string directory, long lsn, long firstRetainedLsn)
        : base($"LSN {lsn} is no longer in the WAL in '{directory}': it now starts at LSN {firstRetainedLsn} (older segments were removed by retention).")
    {
        Lsn = lsn;
        FirstRetainedLsn = firstRetainedLsn;
    }

    /// <summary>The LSN asked for.</summary>
    public long Lsn { get; }

    /// <summary>The oldest LSN the WAL holds now.</summary>
    public long FirstRetainedLsn { get; }
}
