using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using OxiVec.Storage;

namespace OxiVec.Transactions;

/// <summary>
/// The payload of a prepare record (and of a prepared transaction in a checkpoint), encoded by the storage layer:
/// <c>u8 version (1), i64 prepared-at (µs since the Unix epoch), u16 coordinator bytes (0xFFFF: none) + UTF-8,
/// u32 operation count</c>, then per operation <c>u8 kind, u8 flags (bit 0: the put adds a new id), u16 collection
/// bytes + UTF-8, u16 id bytes + UTF-8, u32 dimension + float32 × dimension, u32 metadata bytes + metadata</c>
/// (little endian; a delete has dimension 0 and no metadata).
/// </summary>
internal static class PreparedTransactionCodec
{
    private const byte Version = 1;
    private const ushort NoCoordinator = ushort.MaxValue;
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Encodes resolved writes with the kinds they were given as.</summary>
    public static byte[] Encode(DateTimeOffset preparedAt, string? coordinatorId, IReadOnlyList<TransactionOperationKind> kinds, IReadOnlyList<StoreOperation> resolved)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        buffer.GetSpan(1)[0] = Version;
        buffer.Advance(1);
        WriteInt64(buffer, (preparedAt.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / TimeSpan.TicksPerMicrosecond);
        if (coordinatorId is null)
        {
            WriteUInt16(buffer, NoCoordinator);
        }
        else
        {
            WriteString(buffer, coordinatorId);
        }

        WriteInt32(buffer, resolved.Count);
        for (int i = 0; i < resolved.Count; i++)
        {
            Span<byte> head = buffer.GetSpan(2);
            head[0] = (byte)kinds[i];
            head[1] = resolved[i] is StoreOperation.Put { IsNew: true } ? (byte)1 : (byte)0;
            buffer.Advance(2);
            (string collection, string id, float[] vector, byte[] metadata) = resolved[i] switch
            {
                StoreOperation.Put p => (p.Collection, p.Id, p.Vector, p.EncodedMetadata),
                StoreOperation.Remove r => (r.Collection, r.Id, Array.Empty<float>(), Array.Empty<byte>()),
                _ => throw new ArgumentException($"A prepared transaction holds only puts and removes, not {resolved[i].GetType().Name}.", nameof(resolved)),
            };
            WriteString(buffer, collection);
            WriteString(buffer, id);
            WriteInt32(buffer, vector.Length);
            buffer.Write(MemoryMarshal.AsBytes(vector.AsSpan()));
            WriteInt32(buffer, metadata.Length);
            buffer.Write(metadata);
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Decodes a payload into a prepared entry for <paramref name="gid"/> at <paramref name="lsn"/>.</summary>
    /// <exception cref="InvalidDataException">The payload is malformed; the message names the field and offset.</exception>
    public static PreparedEntry Decode(string gid, long lsn, ReadOnlySpan<byte> payload)
    {
        byte[] copy = payload.ToArray();
        int at = 0;
        try
        {
            byte version = Take(payload, ref at, 1, "version")[0];
            if (version != Version)
            {
                throw new InvalidDataException($"prepare payload version {version}; this build reads version {Version}");
            }

            long micros = BinaryPrimitives.ReadInt64LittleEndian(Take(payload, ref at, 8, "prepared-at"));
            DateTimeOffset preparedAt = DateTimeOffset.UnixEpoch.AddTicks(checked(micros * TimeSpan.TicksPerMicrosecond));
            ushort coordinatorBytes = BinaryPrimitives.ReadUInt16LittleEndian(Take(payload, ref at, 2, "coordinator length"));
            string? coordinator = coordinatorBytes == NoCoordinator ? null : StrictUtf8.GetString(Take(payload, ref at, coordinatorBytes, "coordinator"));
            int count = BinaryPrimitives.ReadInt32LittleEndian(Take(payload, ref at, 4, "operation count"));
            if (count < 1 || count > payload.Length)
            {
                throw new InvalidDataException($"impossible operation count {count}");
            }

            var operations = new TransactionOperation[count];
            var resolved = new StoreOperation[count];
            for (int i = 0; i < count; i++)
            {
                ReadOnlySpan<byte> head = Take(payload, ref at, 2, "operation kind");
                var kind = (TransactionOperationKind)head[0];
                if (!Enum.IsDefined(kind))
                {
                    throw new InvalidDataException($"operation {i} has unknown kind {head[0]}");
                }

                string collection = ReadString(payload, ref at, "collection");
                string id = ReadString(payload, ref at, "id");
                int dimension = BinaryPrimitives.ReadInt32LittleEndian(Take(payload, ref at, 4, "dimension"));
                if (dimension < 0 || dimension > (payload.Length - at) / sizeof(float))
                {
                    throw new InvalidDataException($"operation {i} has impossible dimension {dimension}");
                }

                float[] vector = MemoryMarshal.Cast<byte, float>(Take(payload, ref at, dimension * sizeof(float), "vector")).ToArray();
                int metadataBytes = BinaryPrimitives.ReadInt32LittleEndian(Take(payload, ref at, 4, "metadata length"));
                byte[] metadata = Take(payload, ref at, metadataBytes, "metadata").ToArray();
                if (kind == TransactionOperationKind.Delete)
                {
                    operations[i] = TransactionOperation.Delete(collection, id);
                    resolved[i] = new StoreOperation.Remove(collection, id);
                }
                else
                {
                    FrozenMetadata frozen = FrozenMetadata.Of(MetadataCodec.Decode(metadata));
                    operations[i] = new TransactionOperation(kind, collection, id, vector, frozen.Count == 0 ? null : frozen);
                    resolved[i] = new StoreOperation.Put(collection, id, vector, frozen, metadata, IsNew: (head[1] & 1) != 0);
                }
            }

            if (at != payload.Length)
            {
                throw new InvalidDataException($"{payload.Length - at} unexpected bytes after the operations");
            }

            return new PreparedEntry(gid, lsn, preparedAt, coordinator, operations, resolved, copy);
        }
        catch (Exception ex) when (ex is ArgumentException or DecoderFallbackException or OverflowException)
        {
            throw new InvalidDataException($"the prepare payload of '{gid}' does not decode at offset {at}: {ex.Message}", ex);
        }
        catch (InvalidDataException ex) when (!ex.Message.StartsWith("the prepare payload", StringComparison.Ordinal))
        {
            throw new InvalidDataException($"the prepare payload of '{gid}' does not decode at offset {at}: {ex.Message}", ex);
        }
    }

    private static ReadOnlySpan<byte> Take(ReadOnlySpan<byte> payload, ref int at, int count, string field)
    {
        if (count < 0 || count > payload.Length - at)
        {
            throw new InvalidDataException($"{field} needs {count} bytes; {payload.Length - at} are left");
        }

        ReadOnlySpan<byte> taken = payload.Slice(at, count);
        at += count;
        return taken;
    }

    private static string ReadString(ReadOnlySpan<byte> payload, ref int at, string field)
    {
        ushort length = BinaryPrimitives.ReadUInt16LittleEndian(Take(payload, ref at, 2, field + " length"));
        return StrictUtf8.GetString(Take(payload, ref at, length, field));
    }

    private static void WriteString(ArrayBufferWriter<byte> buffer, string value)
    {
        byte[] bytes = StrictUtf8.GetBytes(value);
        WriteUInt16(buffer, checked((ushort)bytes.Length));
        buffer.Write(bytes);
    }

    private static void WriteUInt16(ArrayBufferWriter<byte> buffer, ushort value)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(buffer.GetSpan(2), value);
        buffer.Advance(2);
    }

    private static void WriteInt32(ArrayBufferWriter<byte> buffer, int value)
    {
        BinaryPrimitives.WriteInt32LittleEndian(buffer.GetSpan(4), value);
        buffer.Advance(4);
    }

    private static void WriteInt64(ArrayBufferWriter<byte> buffer, long value)
    {
        BinaryPrimitives.WriteInt64LittleEndian(buffer.GetSpan(8), value);
        buffer.Advance(8);
    }
}
