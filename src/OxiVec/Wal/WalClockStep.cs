using System.Buffers.Binary;

namespace OxiVec.Wal;

/// <summary>
/// The record the writer logs when the wall clock is found behind the newest record's timestamp (a step back, or
/// the correction of a forward blip): from here on records carry <see cref="FrozenMicros"/> until the wall clock
/// reaches it again. Logged as a <see cref="WalEntry.Custom"/> named <see cref="Operation"/> with a 24-byte payload:
/// <c>i64 frozen timestamp µs, i64 wall clock observed µs, i64 step µs</c> (little-endian, since the Unix epoch).
/// The store's replay ignores it (an unknown custom operation changes nothing).
/// </summary>
/// <param name="FrozenMicros">The timestamp records carry while frozen (the newest record's when the step was seen).</param>
/// <param name="WallMicros">The wall clock when the step was seen (behind <paramref name="FrozenMicros"/>).</param>
/// <param name="StepMicros">The step against the monotonic clock (negative: back); after a restart, the wall clock minus the newest timestamp.</param>
internal sealed record WalClockStep(long FrozenMicros, long WallMicros, long StepMicros)
{
    /// <summary>The reserved custom operation name.</summary>
    public const string Operation = "oxivec.clock-step";

    private const int PayloadSize = 24;

    /// <summary>The entry to log.</summary>
    public WalEntry.Custom ToEntry()
    {
        var payload = new byte[PayloadSize];
        BinaryPrimitives.WriteInt64LittleEndian(payload, FrozenMicros);
        BinaryPrimitives.WriteInt64LittleEndian(payload.AsSpan(8), WallMicros);
        BinaryPrimitives.WriteInt64LittleEndian(payload.AsSpan(16), StepMicros);
        return new WalEntry.Custom(Operation, payload);
    }

    /// <summary>Reads the clock-step record <paramref name="record"/> is, or returns null for any other record.</summary>
    /// <exception cref="WalCorruptionException">It is a clock-step record whose payload is not 24 bytes (names the file, offset and LSN).</exception>
    public static WalClockStep? From(WalRecord record)
    {
        if (record.Type != WalRecordType.Custom || record.ToEntry() is not WalEntry.Custom { Operation: Operation } custom)
        {
            return null;
        }

        ReadOnlySpan<byte> p = custom.Payload.Span;
        if (p.Length != PayloadSize)
        {
            throw new WalCorruptionException(
                record.SegmentFile, record.Offset, $"LSN {record.Lsn}: a '{Operation}' record has a {p.Length}-byte payload; it must be {PayloadSize} bytes");
        }

        return new WalClockStep(
            BinaryPrimitives.ReadInt64LittleEndian(p), BinaryPrimitives.ReadInt64LittleEndian(p[8..]), BinaryPrimitives.ReadInt64LittleEndian(p[16..]));
    }
}
