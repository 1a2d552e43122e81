using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace OxiVec.Wal;

/// <summary>
/// Encodes <see cref="WalEntry"/> values as record payloads and back. Strings are a u16 byte count and UTF-8;
/// vectors a u32 dimension and little-endian float32 values; byte blobs a u32 count and the bytes.
/// </summary>
internal static class WalEntryCodec
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The payload size of <paramref name="entry"/>; validates its fields.</summary>
    /// <exception cref="ArgumentException">A field is too long or otherwise cannot be encoded; names the field.</exception>
    public static int GetPayloadSize(WalEntry entry) => entry switch
    {
        WalEntry.Insert e => VectorRecordSize(e.Collection, e.Id, e.Vector, e.Metadata),
        WalEntry.Update e => VectorRecordSize(e.Collection, e.Id, e.Vector, e.Metadata),
        WalEntry.Delete e => StringSize(e.Collection, "Collection") + StringSize(e.Id, "Id"),
        WalEntry.Checkpoint => 16,
        WalEntry.Custom e => StringSize(e.Operation, "Operation") + e.Payload.Length,
        WalEntry.TransactionBegin => 4,
        WalEntry.TransactionCommit => 12,
        WalEntry.TransactionAbort => 8,
        WalEntry.PrepareTransaction e => StringSize(e.Gid, "Gid") + e.Payload.Length,
        WalEntry.CommitPrepared e => StringSize(e.Gid, "Gid"),
        WalEntry.RollbackPrepared e => StringSize(e.Gid, "Gid"),
        _ => throw new ArgumentException($"Unknown WAL entry kind {entry.GetType().Name}.", nameof(entry)),
    };

    /// <summary>Writes the payload of <paramref name="entry"/>; <paramref name="destination"/> holds exactly <see cref="GetPayloadSize"/> bytes.</summary>
    public static void Encode(WalEntry entry, Span<byte> destination)
    {
        var w = new SpanWriter(destination);
        switch (entry)
        {
            case WalEntry.Insert e:
                WriteVectorRecord(ref w, e.Collection, e.Id, e.Vector.Span, e.Metadata.Span);
                break;
            case WalEntry.Update e:
                WriteVectorRecord(ref w, e.Collection, e.Id, e.Vector.Span, e.Metadata.Span);
                break;
            case WalEntry.Delete e:
                w.String(e.Collection);
                w.String(e.Id);
                break;
            case WalEntry.Checkpoint e:
                w.Int64(e.Sequence);
                w.Int64(e.CoveredLsn);
                break;
            case WalEntry.Custom e:
                w.String(e.Operation);
                e.Payload.Span.CopyTo(w.Take(e.Payload.Length));
                break;
            case WalEntry.TransactionBegin e:
                w.Int32(e.EntryCount);
                break;
            case WalEntry.TransactionCommit e:
                w.Int64(e.BeginLsn);
                w.Int32(e.EntryCount);
                break;
            case WalEntry.TransactionAbort e:
                w.Int64(e.BeginLsn);
                break;
            case WalEntry.PrepareTransaction e:
                w.String(e.Gid);
                e.Payload.Span.CopyTo(w.Take(e.Payload.Length));
                break;
            case WalEntry.CommitPrepared e:
                w.String(e.Gid);
                break;
            case WalEntry.RollbackPrepared e:
                w.String(e.Gid);
                break;
            default:
                throw new ArgumentException($"Unknown WAL entry kind {entry.GetType().Name}.", nameof(entry));
        }

        if (w.Position != destination.Length)
        {
            throw new InvalidOperationException($"Encoded {w.Position} bytes for a {entry.Type} entry sized at {destination.Length}.");
        }
    }

    /// <summary>
    /// <see cref="Encode"/>, returning <see cref="WalFormat.Crc32C"/>(<paramref name="crc"/>, the payload written): a
    /// vector is copied and checksummed in one pass (<see cref="WalFormat.Crc32CCopy"/>), other fields checksummed
    /// as written. The bytes are exactly <see cref="Encode"/>'s.
    /// </summary>
    public static uint EncodeChecksummed(WalEntry entry, Span<byte> destination, uint crc)
    {
        switch (entry)
        {
            case WalEntry.Insert e:
                return EncodeVectorRecordChecksummed(e.Type, e.Collection, e.Id, e.Vector, e.Metadata, destination, crc);
            case WalEntry.Update e:
                return EncodeVectorRecordChecksummed(e.Type, e.Collection, e.Id, e.Vector, e.Metadata, destination, crc);
            default:
                Encode(entry, destination);
                return WalFormat.Crc32C(crc, destination);
        }
    }

    /// <summary>The payload of an insert or update (<paramref name="type"/>) with these fields, as <see cref="Encode"/> writes it.</summary>
    public static void EncodeVectorRecord(
        WalRecordType type, string collection, string id, ReadOnlyMemory<float> vector, ReadOnlyMemory<byte> metadata, Span<byte> destination)
    {
        var w = new SpanWriter(destination);
        WriteVectorRecord(ref w, collection, id, vector.Span, metadata.Span);
        if (w.Position != destination.Length)
        {
            throw new InvalidOperationException($"Encoded {w.Position} bytes for a {type} entry sized at {destination.Length}.");
        }
    }

    /// <summary><see cref="EncodeVectorRecord"/> with the checksum computed as the bytes are written (see <see cref="EncodeChecksummed"/>).</summary>
    public static uint EncodeVectorRecordChecksummed(
        WalRecordType type, string collection, string id, ReadOnlyMemory<float> vector, ReadOnlyMemory<byte> metadata, Span<byte> destination, uint crc)
    {
        if (!BitConverter.IsLittleEndian)
        {
            EncodeVectorRecord(type, collection, id, vector, metadata, destination);
            return WalFormat.Crc32C(crc, destination);
        }

        var w = new SpanWriter(destination);
        w.String(collection);
        w.String(id);
        w.Int32(vector.Length);
        crc = WalFormat.Crc32C(crc, destination[..w.Position]);
        crc = WalFormat.Crc32CCopy(crc, MemoryMarshal.AsBytes(vector.Span), w.Take(vector.Length * sizeof(float)));
        int metadataStart = w.Position;
        w.Bytes(metadata.Span);
        if (w.Position != destination.Length)
        {
            throw new InvalidOperationException($"Encoded {w.Position} bytes for a {type} entry sized at {destination.Length}.");
        }

        return WalFormat.Crc32C(crc, destination[metadataStart..]);
    }

    /// <summary>Decodes a payload whose checksum has been verified.</summary>
    /// <exception cref="InvalidDataException">The payload does not match its record type; the message names the field.</exception>
    public static WalEntry Decode(WalRecordType type, ReadOnlySpan<byte> payload, long lsn, DateTimeOffset timestamp)
    {
        var r = new SpanReader(payload);
        WalEntry entry = type switch
        {
            WalRecordType.Insert => ReadVectorRecord(ref r, insert: true),
            WalRecordType.Update => ReadVectorRecord(ref r, insert: false),
            WalRecordType.Delete => new WalEntry.Delete(r.String("collection"), r.String("id")),
            WalRecordType.Checkpoint => new WalEntry.Checkpoint(r.Int64("sequence"), r.Int64("covered LSN")),
            WalRecordType.Custom => new WalEntry.Custom(r.String("operation"), r.Rest()),
            WalRecordType.TransactionBegin => new WalEntry.TransactionBegin(r.Int32("entry count")),
            WalRecordType.TransactionCommit => new WalEntry.TransactionCommit(r.Int64("begin LSN"), r.Int32("entry count")),
            WalRecordType.TransactionAbort => new WalEntry.TransactionAbort(r.Int64("begin LSN")),
            WalRecordType.PrepareTransaction => new WalEntry.PrepareTransaction(r.String("gid"), r.Rest()),
            WalRecordType.CommitPrepared => new WalEntry.CommitPrepared(r.String("gid")),
            WalRecordType.RollbackPrepared => new WalEntry.RollbackPrepared(r.String("gid")),
            _ => throw new InvalidDataException($"unknown record type {(byte)type}"),
        };
        if (r.Remaining != 0)
        {
            throw new InvalidDataException($"{r.Remaining} unexpected bytes after the {type} payload");
        }

        return entry with { Lsn = lsn, Timestamp = timestamp };
    }

    /// <summary>The payload size of an insert or update with these fields; validates the strings.</summary>
    public static int VectorRecordSize(string collection, string id, ReadOnlyMemory<float> vector, ReadOnlyMemory<byte> metadata) =>
        StringSize(collection, "Collection") + StringSize(id, "Id") + 4 + (vector.Length * sizeof(float)) + 4 + metadata.Length;

    private static int StringSize(string value, string field)
    {
        ArgumentNullException.ThrowIfNull(value, field);
        int bytes;
        if (Ascii.IsValid(value))
        {
            bytes = value.Length; // one byte per character (the usual id and collection name), no encoder
        }
        else
        {
            try
            {
                bytes = StrictUtf8.GetByteCount(value);
            }
            catch (EncoderFallbackException ex)
            {
                throw new ArgumentException($"{field} is not valid Unicode (it holds a lone surrogate).", field, ex);
            }
        }

        if (bytes > ushort.MaxValue)
        {
            throw new ArgumentException($"{field} is {bytes} UTF-8 bytes; the WAL stores at most {ushort.MaxValue}.", field);
        }

        return 2 + bytes;
    }

    private static void WriteVectorRecord(ref SpanWriter w, string collection, string id, ReadOnlySpan<float> vector, ReadOnlySpan<byte> metadata)
    {
        w.String(collection);
        w.String(id);
        w.Int32(vector.Length);
        Span<byte> target = w.Take(vector.Length * sizeof(float));
        if (BitConverter.IsLittleEndian)
        {
            MemoryMarshal.AsBytes(vector).CopyTo(target);
        }
        else
        {
            for (int i = 0; i < vector.Length; i++)
            {
                BinaryPrimitives.WriteSingleLittleEndian(target[(i * 4)..], vector[i]);
            }
        }

        w.Bytes(metadata);
    }

    private static WalEntry ReadVectorRecord(ref SpanReader r, bool insert)
    {
        string collection = r.String("collection");
        string id = r.String("id");
        int dimension = r.Int32("dimension");
        if (dimension < 0 || (long)dimension * sizeof(float) > r.Remaining)
        {
            throw new InvalidDataException($"vector dimension {dimension} does not fit in the {r.Remaining} remaining payload bytes");
        }

        ReadOnlySpan<byte> raw = r.Take(dimension * sizeof(float), "vector");
        var vector = new float[dimension];
        if (BitConverter.IsLittleEndian)
        {
            raw.CopyTo(MemoryMarshal.AsBytes(vector.AsSpan()));
        }
        else
        {
            for (int i = 0; i < dimension; i++)
            {
                vector[i] = BinaryPrimitives.ReadSingleLittleEndian(raw[(i * 4)..]);
            }
        }

        byte[] metadata = r.Blob("metadata");
        return insert
            ? new WalEntry.Insert(collection, id, vector, metadata)
            : new WalEntry.Update(collection, id, vector, metadata);
    }

    private ref struct SpanWriter(Span<byte> buffer)
    {
        private readonly Span<byte> _buffer = buffer;

        public int Position { get; private set; }

        public Span<byte> Take(int count)
        {
            Span<byte> s = _buffer.Slice(Position, count);
            Position += count;
            return s;
        }

        public void Int32(int value) => BinaryPrimitives.WriteInt32LittleEndian(Take(4), value);

        public void Int64(long value) => BinaryPrimitives.WriteInt64LittleEndian(Take(8), value);

        public void String(string value)
        {
            // ASCII (the usual id and collection name) is narrowed directly; anything else, or a destination too
            // small, is encoded again by the strict encoder, which writes the same ASCII prefix and throws as before.
            Span<byte> destination = _buffer[(Position + 2)..];
            if (Ascii.FromUtf16(value, destination, out int count) != OperationStatus.Done)
            {
                count = StrictUtf8.GetBytes(value, destination);
            }

            BinaryPrimitives.WriteUInt16LittleEndian(_buffer[Position..], (ushort)count);
            Position += 2 + count;
        }

        public void Bytes(ReadOnlySpan<byte> value)
        {
            Int32(value.Length);
            value.CopyTo(Take(value.Length));
        }
    }

    private ref struct SpanReader(ReadOnlySpan<byte> buffer)
    {
        private readonly ReadOnlySpan<byte> _buffer = buffer;
        private int _position;

        public readonly int Remaining => _buffer.Length - _position;

        public ReadOnlySpan<byte> Take(int count, string field)
        {
            if (count < 0 || count > Remaining)
            {
                throw new InvalidDataException($"{field}: needs {count} bytes at payload offset {_position}, {Remaining} remain");
            }

            ReadOnlySpan<byte> s = _buffer.Slice(_position, count);
            _position += count;
            return s;
        }

        public int Int32(string field) => BinaryPrimitives.ReadInt32LittleEndian(Take(4, field));

        public long Int64(string field) => BinaryPrimitives.ReadInt64LittleEndian(Take(8, field));

        public string String(string field)
        {
            int count = BinaryPrimitives.ReadUInt16LittleEndian(Take(2, field));
            try
            {
                return StrictUtf8.GetString(Take(count, field));
            }
            catch (DecoderFallbackException ex)
            {
                throw new InvalidDataException($"{field}: invalid UTF-8", ex);
            }
        }

        public byte[] Blob(string field)
        {
            int count = Int32(field);
            return Take(count, field).ToArray();
        }

        public byte[] Rest() => Take(Remaining, "payload").ToArray();
    }
}
