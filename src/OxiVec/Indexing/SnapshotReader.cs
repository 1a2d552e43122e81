using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using OxiVec.Wal;

namespace OxiVec.Indexing;

/// <summary>
/// Reads an index snapshot (see <see cref="VectorIndexSnapshot"/>) field by field, keeping the CRC-32C of
/// everything read, the offset from the snapshot's start and the current section, so that every problem becomes
/// an <see cref="InvalidDataException"/> naming the section and offset. Reads exactly the snapshot's bytes (no
/// read-ahead), so the stream is left just after it; never reads past the end its current section declared.
/// </summary>
internal sealed class SnapshotReader
{
    private const int PieceSize = 16 * 1024;
    private readonly Stream _stream;
    private readonly byte[] _piece = new byte[PieceSize];
    private uint _crc;
    private long _position;
    private string _section = "header";
    private long _sectionEnd = long.MaxValue;
    private long _fieldOffset;

    public SnapshotReader(Stream source)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (!source.CanRead)
        {
            throw new ArgumentException("The stream is not readable.", nameof(source));
        }

        IndexSnapshotFormat.EnsureLittleEndian();
        _stream = source;
    }

    /// <summary>Bytes read since the start of the snapshot: the offset of the next byte.</summary>
    public long Position => _position;

    /// <summary>Bytes left in the current section.</summary>
    public long SectionRemaining => _sectionEnd - _position;

    /// <summary>Reads and checks the header (magic, version, reserved byte); returns the kind byte, checked too.</summary>
    public byte ReadHeader()
    {
        Span<byte> header = stackalloc byte[IndexSnapshotFormat.HeaderSize];
        ReadBytes(header);
        if (!header[..IndexSnapshotFormat.Magic.Length].SequenceEqual(IndexSnapshotFormat.Magic))
        {
            throw Error("the magic bytes are not \"OXIVIDX\\0\": this is not an index snapshot", 0);
        }

        ushort version = BinaryPrimitives.ReadUInt16LittleEndian(header[8..]);
        if (version != IndexSnapshotFormat.Version)
        {
            throw Error(
                $"unsupported format version {version} (this build reads version {IndexSnapshotFormat.Version})", 8);
        }

        byte kind = header[10];
        if (kind is not (IndexSnapshotFormat.FlatKind or IndexSnapshotFormat.HnswKind))
        {
            throw Error($"unknown index kind {kind}", 10);
        }

        if (header[11] != 0)
        {
            throw Error($"the reserved header byte is {header[11]}, not 0", 11);
        }

        return kind;
    }

    /// <summary>
    /// Reads a section header and checks its tag and, when <paramref name="expectedLength"/> is not negative, its
    /// length; returns the length. Until <see cref="ExitSection"/>, reads may not go past the section's end.
    /// </summary>
    public long EnterSection(ReadOnlySpan<byte> tag, long expectedLength = -1)
    {
        string name = Encoding.ASCII.GetString(tag);
        _section = name;
        long start = _position;
        Span<byte> tagRead = stackalloc byte[IndexSnapshotFormat.TagSize];
        ReadBytes(tagRead);
        if (!tagRead.SequenceEqual(tag))
        {
            throw Error($"expected the section tag {name} but found bytes {Convert.ToHexString(tagRead)}", start);
        }

        ulong declared = ReadUInt64();
        if (declared > long.MaxValue - (ulong)_position)
        {
            throw Error($"the section length {declared} is impossible");
        }

        long length = (long)declared;
        if (expectedLength >= 0 && length != expectedLength)
        {
            throw Error($"the section is {length} bytes long; {expectedLength} were expected");
        }

        if (_stream.CanSeek)
        {
            long remaining = _stream.Length - _stream.Position;
            if (length > remaining)
            {
                throw Error($"the section declares {length} bytes but the stream has only {remaining} left");
            }
        }

        _sectionEnd = _position + length;
        return length;
    }

    /// <summary>Checks that the current section was read exactly to its end.</summary>
    public void ExitSection()
    {
        if (_position != _sectionEnd)
        {
            throw Error(
                $"the section's content ends at offset {_position}, but its length says {_sectionEnd}", _position);
        }

        _sectionEnd = long.MaxValue;
    }

    /// <summary>Reads the trailer and checks it against the CRC-32C of everything before it.</summary>
    public void ReadTrailer()
    {
        _section = "trailer";
        uint computed = _crc;
        Span<byte> trailer = stackalloc byte[sizeof(uint)];
        ReadBytes(trailer);
        uint stored = BinaryPrimitives.ReadUInt32LittleEndian(trailer);
        if (stored != computed)
        {
            throw Error($"checksum mismatch: the trailer says 0x{stored:X8}, the content hashes to 0x{computed:X8}");
        }
    }

    public byte ReadByte()
    {
        Span<byte> value = stackalloc byte[1];
        ReadBytes(value);
        return value[0];
    }

    public int ReadInt32()
    {
        Span<byte> value = stackalloc byte[sizeof(int)];
        ReadBytes(value);
        return BinaryPrimitives.ReadInt32LittleEndian(value);
    }

    public ulong ReadUInt64()
    {
        Span<byte> value = stackalloc byte[sizeof(ulong)];
        ReadBytes(value);
        return BinaryPrimitives.ReadUInt64LittleEndian(value);
    }

    public double ReadDouble()
    {
        Span<byte> value = stackalloc byte[sizeof(double)];
        ReadBytes(value);
        return BinaryPrimitives.ReadDoubleLittleEndian(value);
    }

    /// <summary>Raw little-endian int32 values straight into <paramref name="destination"/>.</summary>
    public void ReadInt32s(Span<int> destination) => ReadBytes(MemoryMarshal.AsBytes(destination));

    /// <summary>Raw little-endian float32 values straight into <paramref name="destination"/>.</summary>
    public void ReadFloats(Span<float> destination) => ReadBytes(MemoryMarshal.AsBytes(destination));

    /// <summary>
    /// Reads the next <c>min(<paramref name="maxBytes"/>, 16 KiB)</c> bytes into an internal buffer, valid until the
    /// next read: for sections consumed in pieces without allocating for their declared length up front.
    /// </summary>
    public ReadOnlySpan<byte> ReadPiece(long maxBytes)
    {
        Span<byte> piece = _piece.AsSpan(0, (int)Math.Min(maxBytes, PieceSize));
        ReadBytes(piece);
        return piece;
    }

    /// <summary>Reads exactly <paramref name="destination"/>'s length, within the current section.</summary>
    public void ReadBytes(Span<byte> destination)
    {
        _fieldOffset = _position;
        if (destination.Length > _sectionEnd - _position)
        {
            throw Error(
                $"{destination.Length} bytes are needed but the section ends {_sectionEnd - _position} bytes later");
        }

        int read = _stream.ReadAtLeast(destination, destination.Length, throwOnEndOfStream: false);
        if (read < destination.Length)
        {
            throw Error(
                $"the snapshot is truncated: it ends at offset {_position + read}, inside {destination.Length} bytes expected here");
        }

        _crc = WalFormat.Crc32C(_crc, destination);
        _position += destination.Length;
    }

    /// <summary>An exception for a problem with the field read last.</summary>
    public InvalidDataException Error(string detail) => Error(detail, _fieldOffset);

    /// <summary>An exception for a problem with the byte at <paramref name="offset"/> of the snapshot.</summary>
    public InvalidDataException Error(string detail, long offset) => ErrorIn(_section, detail, offset);

    /// <summary>An exception for a problem with the byte at <paramref name="offset"/>, in an earlier section.</summary>
    public static InvalidDataException ErrorIn(string section, string detail, long offset) =>
        new($"Invalid index snapshot: {detail} (section {section}, offset {offset}).");
}
