using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace OxiVec.Wal;

/// <summary>
/// The byte layout of WAL segments and records, shared by the writer and the reader (and nothing else).
/// docs/wal-format.md is the prose version of this file; change both together.
/// </summary>
internal static class WalFormat
{
    /// <summary>"OXIVWAL" followed by a zero byte.</summary>
    public const ulong Magic = 0x004C41575649584F;

    /// <summary>The only format version this build reads and writes.</summary>
    public const ushort FormatVersion = 1;

    /// <summary>Size of the segment header; the first record starts here.</summary>
    public const int SegmentHeaderSize = 64;

    /// <summary>Size of a record header; the payload follows it.</summary>
    public const int RecordHeaderSize = 32;

    /// <summary>Records start at multiples of this, so a header never straddles an alignment boundary.</summary>
    public const int Alignment = 8;

    /// <summary>Sector size assumed when reasoning about torn writes.</summary>
    public const int SectorSize = 512;

    /// <summary>The largest payload a record may carry, whatever the segment size (256 MiB).</summary>
    public const int MaxPayloadLength = 256 << 20;

    /// <summary>Segment header flag: the segment body is zstd-compressed (sealed segments only).</summary>
    public const ushort SegmentFlagCompressed = 1;

    // Segment header offsets.
    private const int HMagic = 0, HVersion = 8, HFlags = 10, HHeaderSize = 12, HSegmentId = 16, HFirstLsn = 24,
        HCreated = 32, HSalt = 40, HChecksum = 60;

    // Record header offsets.
    private const int RLength = 0, RCrc = 4, RLsn = 8, RTimestamp = 16, RType = 24, RFlags = 25, RReserved = 26,
        RDurableDistance = 28;

    /// <summary>Bytes a record with <paramref name="payloadLength"/> bytes of payload occupies, padding included.</summary>
    public static int RecordSize(int payloadLength) => AlignUp(RecordHeaderSize + payloadLength);

    public static int AlignUp(int value) => (value + (Alignment - 1)) & ~(Alignment - 1);

    public static long AlignUp(long value) => (value + (Alignment - 1)) & ~(long)(Alignment - 1);

    public static void WriteSegmentHeader(Span<byte> destination, in WalSegmentHeader header)
    {
        Span<byte> h = destination[..SegmentHeaderSize];
        h.Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(h[HMagic..], Magic);
        BinaryPrimitives.WriteUInt16LittleEndian(h[HVersion..], header.FormatVersion);
        BinaryPrimitives.WriteUInt16LittleEndian(h[HFlags..], header.Flags);
        BinaryPrimitives.WriteUInt32LittleEndian(h[HHeaderSize..], SegmentHeaderSize);
        BinaryPrimitives.WriteUInt64LittleEndian(h[HSegmentId..], header.SegmentId);
        BinaryPrimitives.WriteInt64LittleEndian(h[HFirstLsn..], header.FirstLsn);
        BinaryPrimitives.WriteInt64LittleEndian(h[HCreated..], header.CreatedUnixMicros);
        BinaryPrimitives.WriteUInt32LittleEndian(h[HSalt..], header.Salt);
        BinaryPrimitives.WriteUInt32LittleEndian(h[HChecksum..], Crc32C(0, h[..HChecksum]));
    }

    /// <summary>Parses a segment header; returns a reason when it is not valid.</summary>
    public static bool TryReadSegmentHeader(ReadOnlySpan<byte> source, out WalSegmentHeader header, out string? error)
    {
        header = default;
        if (source.Length < SegmentHeaderSize)
        {
            error = $"the file is {source.Length} bytes, shorter than a segment header ({SegmentHeaderSize} bytes)";
            return false;
        }

        if (BinaryPrimitives.ReadUInt64LittleEndian(source[HMagic..]) != Magic)
        {
            error = "bad magic: this is not an OxiVec WAL segment";
            return false;
        }

        uint stored = BinaryPrimitives.ReadUInt32LittleEndian(source[HChecksum..]);
        if (stored != Crc32C(0, source[..HChecksum]))
        {
            error = "segment header checksum mismatch";
            return false;
        }

        ushort version = BinaryPrimitives.ReadUInt16LittleEndian(source[HVersion..]);
        if (version != FormatVersion)
        {
            error = $"unsupported WAL format version {version} (this build reads version {FormatVersion})";
            return false;
        }

        uint headerSize = BinaryPrimitives.ReadUInt32LittleEndian(source[HHeaderSize..]);
        if (headerSize != SegmentHeaderSize)
        {
            error = $"unexpected segment header size {headerSize}";
            return false;
        }

        header = new WalSegmentHeader(
            version,
            BinaryPrimitives.ReadUInt16LittleEndian(source[HFlags..]),
            BinaryPrimitives.ReadUInt64LittleEndian(source[HSegmentId..]),
            BinaryPrimitives.ReadInt64LittleEndian(source[HFirstLsn..]),
            BinaryPrimitives.ReadInt64LittleEndian(source[HCreated..]),
            BinaryPrimitives.ReadUInt32LittleEndian(source[HSalt..]));
        if (header.FirstLsn < 1)
        {
            error = $"segment header names first LSN {header.FirstLsn}; LSNs start at 1";
            return false;
        }

        error = null;
        return true;
    }

    /// <summary>
    /// Completes a record whose payload is already at <c>record[RecordHeaderSize..]</c>: writes the header and
    /// the zero padding, then the checksum (seeded with the segment's salt). <paramref name="record"/> holds
    /// exactly <see cref="RecordSize"/> bytes.
    /// </summary>
    public static void WriteRecordHeader(
        Span<byte> record, uint salt, long lsn, long timestampMicros, WalRecordType type, WalRecordFlags flags,
        uint durableDistance, int payloadLength)
    {
        WriteRecordHeaderFields(record, lsn, timestampMicros, type, flags, durableDistance, payloadLength);
        record[(RecordHeaderSize + payloadLength)..].Clear();
        ReadOnlySpan<byte> payload = record.Slice(RecordHeaderSize, payloadLength);
        SetRecordChecksum(record, RecordChecksum(salt, record[..RecordHeaderSize], payload));
    }

    /// <summary>
    /// Writes every field of a record header into <paramref name="header"/> but its checksum (see
    /// <see cref="SetRecordChecksum"/>), for a writer that computes the checksum as it encodes the payload.
    /// </summary>
    public static void WriteRecordHeaderFields(
        Span<byte> header, long lsn, long timestampMicros, WalRecordType type, WalRecordFlags flags, uint durableDistance, int payloadLength)
    {
        BinaryPrimitives.WriteInt32LittleEndian(header[RLength..], payloadLength);
        BinaryPrimitives.WriteInt64LittleEndian(header[RLsn..], lsn);
        BinaryPrimitives.WriteInt64LittleEndian(header[RTimestamp..], timestampMicros);
        header[RType] = (byte)type;
        header[RFlags] = (byte)flags;
        BinaryPrimitives.WriteUInt16LittleEndian(header[RReserved..], 0);
        BinaryPrimitives.WriteUInt32LittleEndian(header[RDurableDistance..], durableDistance);
    }

    /// <summary>Stores <paramref name="checksum"/> (see <see cref="RecordChecksum"/>) in its field of <paramref name="header"/>.</summary>
    public static void SetRecordChecksum(Span<byte> header, uint checksum) => BinaryPrimitives.WriteUInt32LittleEndian(header[RCrc..], checksum);

    /// <summary>The first part of <see cref="RecordChecksum"/>: the salt and the header; continue it over the payload with <see cref="Crc32C"/>.</summary>
    /// <remarks>
    /// Four checksum steps over fixed offsets (the length as one 4-byte word, then the three 8-byte words after the
    /// checksum field) rather than two general calls, whose 4-byte part went a byte at a time: the same value as
    /// <c>Crc32C(Crc32C(salt, header[..4]), header[8..32])</c>.
    /// </remarks>
    public static uint HeaderChecksum(uint salt, ReadOnlySpan<byte> header)
    {
        ReadOnlySpan<byte> h = header[..RecordHeaderSize];
        uint crc = BitOperations.Crc32C(~salt, BinaryPrimitives.ReadUInt32LittleEndian(h[RLength..]));
        crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(h[RLsn..]));
        crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(h[RTimestamp..]));
        crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(h[RType..]));
        return ~crc;
    }

    /// <summary>Reads the fields of a record header without validating it.</summary>
    public static WalRecordHeader ReadRecordHeader(ReadOnlySpan<byte> source) => new(
        BinaryPrimitives.ReadInt32LittleEndian(source[RLength..]),
        BinaryPrimitives.ReadUInt32LittleEndian(source[RCrc..]),
        BinaryPrimitives.ReadInt64LittleEndian(source[RLsn..]),
        BinaryPrimitives.ReadInt64LittleEndian(source[RTimestamp..]),
        (WalRecordType)source[RType],
        (WalRecordFlags)source[RFlags],
        BinaryPrimitives.ReadUInt16LittleEndian(source[RReserved..]),
        BinaryPrimitives.ReadUInt32LittleEndian(source[RDurableDistance..]));

    /// <summary>
    /// CRC-32C of the record header (its checksum field excluded) followed by the payload, seeded with the
    /// segment's random salt so that records left in a reused or foreign file never validate.
    /// </summary>
    public static uint RecordChecksum(uint salt, ReadOnlySpan<byte> header, ReadOnlySpan<byte> payload) =>
        Crc32C(HeaderChecksum(salt, header), payload);

    /// <summary>True when the 32 bytes at the start of <paramref name="header"/> are all zero: unwritten space.</summary>
    public static bool IsZero(ReadOnlySpan<byte> header) => !header.ContainsAnyExcept((byte)0);

    /// <summary>Hardware-accelerated CRC-32C (Castagnoli), 8 bytes per instruction where the CPU has it.</summary>
    public static uint Crc32C(uint crc, ReadOnlySpan<byte> data)
    {
        crc = ~crc;
        ReadOnlySpan<ulong> words = MemoryMarshal.Cast<byte, ulong>(data);
        foreach (ulong word in words)
        {
            crc = BitOperations.Crc32C(crc, BitConverter.IsLittleEndian ? word : BinaryPrimitives.ReverseEndianness(word));
        }

        // The tail (0 to 7 bytes) in at most three steps rather than byte by byte: the same value, as the checksum
        // of a little-endian word is that of its bytes in order.
        ReadOnlySpan<byte> tail = data[(words.Length * sizeof(ulong))..];
        if (tail.Length >= sizeof(uint))
        {
            crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt32LittleEndian(tail));
            tail = tail[sizeof(uint)..];
        }

        if (tail.Length >= sizeof(ushort))
        {
            crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt16LittleEndian(tail));
            tail = tail[sizeof(ushort)..];
        }

        if (tail.Length > 0)
        {
            crc = BitOperations.Crc32C(crc, tail[0]);
        }

        return ~crc;
    }

    /// <summary>
    /// Copies <paramref name="source"/> to the start of <paramref name="destination"/> and returns
    /// <see cref="Crc32C"/>(<paramref name="crc"/>, <paramref name="source"/>), in one pass: each 8-byte word is stored
    /// while the checksum instruction, which bounds the loop, works on it, so the copy costs almost nothing on top (a
    /// record encoded into a fresh page of a mapped segment would otherwise be written, then read back for its checksum).
    /// </summary>
    public static uint Crc32CCopy(uint crc, ReadOnlySpan<byte> source, Span<byte> destination)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(destination.Length, source.Length, nameof(destination));
        crc = ~crc;
        ref byte from = ref MemoryMarshal.GetReference(source);
        ref byte to = ref MemoryMarshal.GetReference(destination);
        int words = source.Length / sizeof(ulong);
        for (int i = 0; i < words; i++)
        {
            ulong word = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref from, i * sizeof(ulong)));
            Unsafe.WriteUnaligned(ref Unsafe.Add(ref to, i * sizeof(ulong)), word);
            crc = BitOperations.Crc32C(crc, BitConverter.IsLittleEndian ? word : BinaryPrimitives.ReverseEndianness(word));
        }

        for (int i = words * sizeof(ulong); i < source.Length; i++)
        {
            destination[i] = source[i];
            crc = BitOperations.Crc32C(crc, source[i]);
        }

        return ~crc;
    }
}

/// <summary>The fields of a segment header.</summary>
internal readonly record struct WalSegmentHeader(
    ushort FormatVersion, ushort Flags, ulong SegmentId, long FirstLsn, long CreatedUnixMicros, uint Salt);

/// <summary>The fields of a record header, as read from disk (not yet validated).</summary>
internal readonly record struct WalRecordHeader(
    int PayloadLength, uint Checksum, long Lsn, long TimestampMicros, WalRecordType Type, WalRecordFlags Flags,
    ushort Reserved, uint DurableDistance);
