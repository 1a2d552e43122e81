using System.Buffers.Binary;
using System.Text;

namespace OxiVec.Storage;

/// <summary>
/// The binary form of a record's metadata, as stored in WAL entries and snapshots:
/// u16 field count, then per field <c>str name</c>, u8 kind, value (str, i64, f64, u8, or u16 count + strs),
/// where <c>str</c> is a u16 byte count and UTF-8. Fields are written in ordinal name order.
/// </summary>
internal static class MetadataCodec
{
    public const int MaxFields = ushort.MaxValue;

    private static readonly UTF8Encoding StrictUtf8 = new(false, true);

    public static byte[] Encode(IReadOnlyDictionary<string, MetadataValue>? metadata)
    {
        if (metadata is null || metadata.Count == 0)
        {
            return [];
        }

        if (metadata.Count > MaxFields)
        {
            throw new ArgumentException($"metadata has {metadata.Count} fields; at most {MaxFields} are allowed.", nameof(metadata));
        }

        using var stream = new MemoryStream();
        Span<byte> scratch = stackalloc byte[8];
        BinaryPrimitives.WriteUInt16LittleEndian(scratch, (ushort)metadata.Count);
        stream.Write(scratch[..2]);
        foreach (KeyValuePair<string, MetadataValue> field in metadata.OrderBy(f => f.Key, StringComparer.Ordinal))
        {
            WriteString(stream, field.Key, "metadata field name");
            stream.WriteByte((byte)field.Value.Kind);
            switch (field.Value.Kind)
            {
                case MetadataKind.String:
                    WriteString(stream, field.Value.AsString, $"metadata field '{field.Key}'");
                    break;
                case MetadataKind.Long:
                    BinaryPrimitives.WriteInt64LittleEndian(scratch, field.Value.AsLong);
                    stream.Write(scratch);
                    break;
                case MetadataKind.Double:
                    BinaryPrimitives.WriteDoubleLittleEndian(scratch, field.Value.AsDouble);
                    stream.Write(scratch);
                    break;
                case MetadataKind.Bool:
                    stream.WriteByte(field.Value.AsBool ? (byte)1 : (byte)0);
                    break;
                case MetadataKind.StringList:
                    IReadOnlyList<string> list = field.Value.AsStringList;
                    if (list.Count > ushort.MaxValue)
                    {
                        throw new ArgumentException($"metadata field '{field.Key}' has {list.Count} strings; at most {ushort.MaxValue}.", nameof(metadata));
                    }

                    BinaryPrimitives.WriteUInt16LittleEndian(scratch, (ushort)list.Count);
                    stream.Write(scratch[..2]);
                    foreach (string item in list)
                    {
                        WriteString(stream, item, $"metadata field '{field.Key}'");
                    }

                    break;
                default:
                    throw new ArgumentException($"metadata field '{field.Key}' has no value.", nameof(metadata));
            }
        }

        return stream.ToArray();
    }

    /// <exception cref="InvalidDataException">The bytes are not encoded metadata.</exception>
    public static Dictionary<string, MetadataValue> Decode(ReadOnlySpan<byte> data)
    {
        var result = new Dictionary<string, MetadataValue>(StringComparer.Ordinal);
        if (data.IsEmpty)
        {
            return result;
        }

        int position = 0;
        int count = ReadUInt16(data, ref position);
        for (int i = 0; i < count; i++)
        {
            string name = ReadString(data, ref position);
            var kind = (MetadataKind)Take(data, ref position, 1)[0];
            MetadataValue value = kind switch
            {
                MetadataKind.String => MetadataValue.From(ReadString(data, ref position)),
                MetadataKind.Long => MetadataValue.From(BinaryPrimitives.ReadInt64LittleEndian(Take(data, ref position, 8))),
                MetadataKind.Double => MetadataValue.From(BinaryPrimitives.ReadDoubleLittleEndian(Take(data, ref position, 8))),
                MetadataKind.Bool => MetadataValue.From(Take(data, ref position, 1)[0] != 0),
                MetadataKind.StringList => ReadList(data, ref position),
                _ => throw new InvalidDataException($"metadata field '{name}' has unknown kind {(byte)kind}"),
            };
            if (!result.TryAdd(name, value))
            {
                throw new InvalidDataException($"metadata field '{name}' appears twice");
            }
        }

        if (position != data.Length)
        {
            throw new InvalidDataException($"{data.Length - position} unexpected bytes after the metadata");
        }

        return result;
    }

    private static MetadataValue ReadList(ReadOnlySpan<byte> data, ref int position)
    {
        int count = ReadUInt16(data, ref position);
        var items = new string[count];
        for (int i = 0; i < count; i++)
        {
            items[i] = ReadString(data, ref position);
        }

        return MetadataValue.From(items);
    }

    private static void WriteString(Stream stream, string value, string what)
    {
        byte[] bytes;
        try
        {
            bytes = StrictUtf8.GetBytes(value);
        }
        catch (EncoderFallbackException ex)
        {
            throw new ArgumentException($"{what} is not valid Unicode.", ex);
        }

        if (bytes.Length > ushort.MaxValue)
        {
            throw new ArgumentException($"{what} is {bytes.Length} UTF-8 bytes; at most {ushort.MaxValue} are allowed.");
        }

        Span<byte> length = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(length, (ushort)bytes.Length);
        stream.Write(length);
        stream.Write(bytes);
    }

    private static int ReadUInt16(ReadOnlySpan<byte> data, ref int position) =>
        BinaryPrimitives.ReadUInt16LittleEndian(Take(data, ref position, 2));

    private static string ReadString(ReadOnlySpan<byte> data, ref int position)
    {
        int length = ReadUInt16(data, ref position);
        try
        {
            return StrictUtf8.GetString(Take(data, ref position, length));
        }
        catch (DecoderFallbackException ex)
        {
            throw new InvalidDataException("metadata string is not valid UTF-8", ex);
        }
    }

    private static ReadOnlySpan<byte> Take(ReadOnlySpan<byte> data, ref int position, int count)
    {
        if (count > data.Length - position)
        {
            throw new InvalidDataException($"metadata ends after {data.Length} bytes; {count} more were needed at offset {position}");
        }

        ReadOnlySpan<byte> slice = data.Slice(position, count);
        position += count;
        return slice;
    }
}
