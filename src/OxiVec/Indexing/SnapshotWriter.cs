using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using OxiVec.Wal;

namespace OxiVec.Indexing;

/// <summary>
/// Writes an index snapshot (see <see cref="VectorIndexSnapshot"/>): the header, then length-prefixed sections,
/// then the CRC-32C of every byte before it. Small fields go through a pooled 64 KiB buffer; large spans (vector runs)
/// are written to the stream directly. Checks that every section gets exactly the length it declared.
/// </summary>
internal sealed class SnapshotWriter
{
    private const int BufferSize = 64 * 1024;
    private readonly Stream _stream;
    private byte[]? _buffer = ArrayPool<byte>.Shared.Rent(BufferSize); // returned by Finish (dropped to the GC on a failure)
    private int _buffered;
    private uint _crc;
    private long _position;
    private long _sectionEnd = -1;

    public SnapshotWriter(Stream destination, byte kind)
    {
        ArgumentNullException.ThrowIfNull(destination);
        if (!destination.CanWrite)
        {
            throw new ArgumentException("The stream is not writable.", nameof(destination));
        }

        IndexSnapshotFormat.EnsureLittleEndian();
        _stream = destination;
        WriteBytes(IndexSnapshotFormat.Magic);
        Span<byte> rest = stackalloc byte[4];
        BinaryPrimitives.WriteUInt16LittleEndian(rest, IndexSnapshotFormat.Version);
        rest[2] = kind;
        rest[3] = 0;
        WriteBytes(rest);
    }

    /// <summary>Starts a section: its tag and the exact number of bytes that will follow.</summary>
    public void BeginSection(ReadOnlySpan<byte> tag, long length)
    {
        if (_sectionEnd >= 0)
        {
            throw new InvalidOperationException("The previous snapshot section was not ended.");
        }

        WriteBytes(tag);
        WriteUInt64((ulong)length);
        _sectionEnd = _position + length;
    }

    /// <summary>Ends a section; throws if it did not get the length it declared (a bug).</summary>
    public void EndSection()
    {
        if (_position != _sectionEnd)
        {
            throw new InvalidOperationException(
                $"Snapshot section declared to end at offset {_sectionEnd} ends at {_position}.");
        }

        _sectionEnd = -1;
    }

    public void WriteByte(byte value)
    {
        if (_buffered == BufferSize)
        {
            FlushBuffer();
        }

        Buffer[_buffered++] = value;
        _position++;
    }

    public void WriteInt32(int value)
    {
        Span<byte> bytes = stackalloc byte[sizeof(int)];
        BinaryPrimitives.WriteInt32LittleEndian(bytes, value);
        WriteBytes(bytes);
    }

    public void WriteUInt64(ulong value)
    {
        Span<byte> bytes = stackalloc byte[sizeof(ulong)];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, value);
        WriteBytes(bytes);
    }

    public void WriteDouble(double value)
    {
        Span<byte> bytes = stackalloc byte[sizeof(double)];
        BinaryPrimitives.WriteDoubleLittleEndian(bytes, value);
        WriteBytes(bytes);
    }

    /// <summary>Zero bytes.</summary>
    public void WriteZeros(long count)
    {
        ReadOnlySpan<byte> zeros = stackalloc byte[256];
        for (; count > 0; count -= zeros.Length)
        {
            WriteBytes(zeros[..(int)Math.Min(count, zeros.Length)]);
        }
    }

    /// <summary>Raw little-endian int32 values (the host is little-endian).</summary>
    public void WriteInt32s(ReadOnlySpan<int> values) => WriteBytes(MemoryMarshal.AsBytes(values));

    /// <summary>Raw little-endian float32 values (the host is little-endian).</summary>
    public void WriteFloats(ReadOnlySpan<float> values) => WriteBytes(MemoryMarshal.AsBytes(values));

    public void WriteBytes(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length <= BufferSize - _buffered)
        {
            bytes.CopyTo(Buffer.AsSpan(_buffered));
            _buffered += bytes.Length;
        }
        else
        {
            FlushBuffer();
            if (bytes.Length <= BufferSize / 2)
            {
                bytes.CopyTo(Buffer);
                _buffered = bytes.Length;
            }
            else
            {
                _crc = WalFormat.Crc32C(_crc, bytes);
                _stream.Write(bytes);
            }
        }

        _position += bytes.Length;
    }

    /// <summary>Writes the checksum trailer and hands every buffered byte to the stream (it does not flush it).</summary>
    public void Finish()
    {
        if (_sectionEnd >= 0)
        {
            throw new InvalidOperationException("The last snapshot section was not ended.");
        }

        FlushBuffer();
        Span<byte> trailer = stackalloc byte[sizeof(uint)];
        BinaryPrimitives.WriteUInt32LittleEndian(trailer, _crc);
        _stream.Write(trailer);
        _position += trailer.Length;
        ArrayPool<byte>.Shared.Return(Buffer);
        _buffer = null;
    }

    private byte[] Buffer => _buffer ?? throw new InvalidOperationException("The snapshot was finished; nothing more can be written to it.");

    private void FlushBuffer()
    {
        if (_buffered == 0)
        {
            return;
        }

        ReadOnlySpan<byte> pending = Buffer.AsSpan(0, _buffered);
        _crc = WalFormat.Crc32C(_crc, pending);
        _stream.Write(pending);
        _buffered = 0;
    }
}
