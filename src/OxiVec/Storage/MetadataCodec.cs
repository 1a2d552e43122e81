using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace OxiVec.Storage;

/// <summary>
/// The binary form of a record's metadata, as stored in WAL entries and snapshots:
/// u16 field count, then per field <c>str name</c> and a <c>value</c>: u8 kind, then by kind 1 string: str;
/// 2 long: i64; 3 double: f64; 4 bool: u8; 5 string list: u16 count + strs; 6 null: nothing; 7 list: u32 count +
/// values; 8 object: u32 count + (str name, value) in the object's order. <c>str</c> is a u16 byte count and UTF-8.
/// Top-level fields are written in ordinal name order. Kinds 6-8 were added after 1-5 without changing them: bytes
/// written before still decode the same.
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

        var buffer = new ArrayBufferWriter<byte>(64);
        Encode(metadata, buffer);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// Appends the encoded form of <paramref name="metadata"/> to <paramref name="destination"/> (nothing for null or
    /// empty). Allocates nothing for a <see cref="FrozenMetadata"/> without nested objects: a checkpoint encodes every
    /// record's metadata this way.
    /// </summary>
    /// <exception cref="ArgumentException">Too many fields, a string too long or not valid Unicode, or a value without a kind.</exception>
    public static void Encode(IReadOnlyDictionary<string, MetadataValue>? metadata, IBufferWriter<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        if (metadata is null || metadata.Count == 0)
        {
            return;
        }

        int count = metadata.Count;
        if (count > MaxFields)
        {
            throw new ArgumentException($"metadata has {count} fields; at most {MaxFields} are allowed.", nameof(metadata));
        }

        KeyValuePair<string, MetadataValue>[] fields = ArrayPool<KeyValuePair<string, MetadataValue>>.Shared.Rent(count);
        try
        {
            int n = metadata is FrozenMetadata frozen ? frozen.CopyFieldsTo(fields.AsSpan(0, count)) : CopyFields(metadata, fields);
            Span<KeyValuePair<string, MetadataValue>> sorted = fields.AsSpan(0, n);
            sorted.Sort(static (a, b) => string.CompareOrdinal(a.Key, b.Key));
            WriteUInt16(destination, (ushort)n);
            foreach (KeyValuePair<string, MetadataValue> field in sorted)
            {
                WriteString(destination, field.Key, new Subject(null, Name: true));
                WriteValue(destination, field.Value, new Subject(field.Key, Name: false));
            }
        }
        finally
        {
            fields.AsSpan(0, count).Clear(); // the pool keeps no reference to the caller's strings and values
            ArrayPool<KeyValuePair<string, MetadataValue>>.Shared.Return(fields);
        }
    }

    /// <summary>What an encoding error names: a top-level field's name, a field's value, or a nested object's field name.</summary>
    private readonly record struct Subject(string? Field, bool Name)
    {
        public override string ToString() => (Field, Name) switch
        {
            (null, _) => "metadata field name",
            (_, false) => $"metadata field '{Field}'",
            _ => $"metadata field '{Field}' field name",
        };
    }

    private static int CopyFields(IReadOnlyDictionary<string, MetadataValue> metadata, KeyValuePair<string, MetadataValue>[] fields)
    {
        int n = 0;
        foreach (KeyValuePair<string, MetadataValue> field in metadata)
        {
            if (n == fields.Length)
            {
                throw new InvalidOperationException("The metadata dictionary grew while it was encoded.");
            }

            fields[n++] = field;
        }

        return n;
    }

    /// <summary>Writes u8 kind then the value; lists and objects recurse (their depth is bounded by <see cref="MetadataValue.MaxNesting"/>).</summary>
    private static void WriteValue(IBufferWriter<byte> destination, MetadataValue value, Subject what)
    {
        Span<byte> span = destination.GetSpan(9);
        span[0] = (byte)value.Kind;
        switch (value.Kind)
        {
            case MetadataKind.String:
                destination.Advance(1);
                WriteString(destination, value.AsString, what);
                break;
            case MetadataKind.Long:
                BinaryPrimitives.WriteInt64LittleEndian(span[1..], value.AsLong);
                destination.Advance(9);
                break;
            case MetadataKind.Double:
                BinaryPrimitives.WriteDoubleLittleEndian(span[1..], value.AsDouble);
                destination.Advance(9);
                break;
            case MetadataKind.Bool:
                span[1] = value.AsBool ? (byte)1 : (byte)0;
                destination.Advance(2);
                break;
            case MetadataKind.StringList:
                IReadOnlyList<string> list = value.AsStringList;
                if (list.Count > ushort.MaxValue)
                {
                    throw new ArgumentException($"{what} has {list.Count} strings; at most {ushort.MaxValue}.");
                }

                BinaryPrimitives.WriteUInt16LittleEndian(span[1..], (ushort)list.Count);
                destination.Advance(3);
                for (int i = 0; i < list.Count; i++)
                {
                    WriteString(destination, list[i], what);
                }

                break;
            case MetadataKind.Null:
                destination.Advance(1);
                break;
            case MetadataKind.List:
                IReadOnlyList<MetadataValue> items = value.AsList;
                BinaryPrimitives.WriteUInt32LittleEndian(span[1..], (uint)items.Count);
                destination.Advance(5);
                for (int i = 0; i < items.Count; i++)
                {
                    WriteValue(destination, items[i], what);
                }

                break;
            case MetadataKind.Object:
                IReadOnlyList<KeyValuePair<string, MetadataValue>> fields = value.AsObject;
                BinaryPrimitives.WriteUInt32LittleEndian(span[1..], (uint)fields.Count);
                destination.Advance(5);
                for (int i = 0; i < fields.Count; i++)
                {
                    WriteString(destination, fields[i].Key, what with { Name = true });
                    WriteValue(destination, fields[i].Value, what);
                }

                break;
            default:
                throw new ArgumentException($"{what} has no value.");
        }
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
            MetadataValue value = ReadValue(data, ref position, $"metadata field '{name}'", 0);
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

    private static MetadataValue ReadValue(ReadOnlySpan<byte> data, ref int position, string what, int depth)
    {
        var kind = (MetadataKind)Take(data, ref position, 1)[0];
        switch (kind)
        {
            case MetadataKind.String:
                return MetadataValue.From(ReadString(data, ref position));
            case MetadataKind.Long:
                return MetadataValue.From(BinaryPrimitives.ReadInt64LittleEndian(Take(data, ref position, 8)));
            case MetadataKind.Double:
                return ReadDouble(data, ref position, what);
            case MetadataKind.Bool:
                return MetadataValue.From(Take(data, ref position, 1)[0] != 0);
            case MetadataKind.StringList:
                return ReadList(data, ref position);
            case MetadataKind.Null:
                return MetadataValue.Null;
            case MetadataKind.List or MetadataKind.Object when depth >= MetadataValue.MaxNesting:
                throw new InvalidDataException($"{what} nests deeper than {MetadataValue.MaxNesting} levels");
            case MetadataKind.List:
                int count = ReadCount(data, ref position, what);
                var items = new MetadataValue[count];
                for (int i = 0; i < count; i++)
                {
                    items[i] = ReadValue(data, ref position, what, depth + 1);
                }

                return Built(() => MetadataValue.FromList(items), what);
            case MetadataKind.Object:
                int fieldCount = ReadCount(data, ref position, what);
                var fields = new KeyValuePair<string, MetadataValue>[fieldCount];
                for (int i = 0; i < fieldCount; i++)
                {
                    string name = ReadString(data, ref position);
                    fields[i] = new(name, ReadValue(data, ref position, what, depth + 1));
                }

                return Built(() => MetadataValue.FromObject(fields), what);
            default:
                throw new InvalidDataException($"{what} has unknown kind {(byte)kind}");
        }
    }

    private static MetadataValue ReadDouble(ReadOnlySpan<byte> data, ref int position, string what)
    {
        double value = BinaryPrimitives.ReadDoubleLittleEndian(Take(data, ref position, 8));
        return double.IsNaN(value) ? throw new InvalidDataException($"{what} is NaN") : MetadataValue.From(value);
    }

    /// <summary>A u32 item count, at most the bytes left (every item takes at least one byte).</summary>
    private static int ReadCount(ReadOnlySpan<byte> data, ref int position, string what)
    {
        uint count = BinaryPrimitives.ReadUInt32LittleEndian(Take(data, ref position, 4));
        return count <= (uint)(data.Length - position)
            ? (int)count
            : throw new InvalidDataException($"{what} claims {count} items but only {data.Length - position} bytes follow at offset {position}");
    }

    private static MetadataValue Built(Func<MetadataValue> build, string what)
    {
        try
        {
            return build();
        }
        catch (ArgumentException ex)
        {
            throw new InvalidDataException($"{what}: {ex.Message}", ex);
        }
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

    private static void WriteString(IBufferWriter<byte> destination, string value, Subject what)
    {
        int length;
        try
        {
            length = StrictUtf8.GetByteCount(value);
        }
        catch (EncoderFallbackException ex)
        {
            throw new ArgumentException($"{what} is not valid Unicode.", ex);
        }

        if (length > ushort.MaxValue)
        {
            throw new ArgumentException($"{what} is {length} UTF-8 bytes; at most {ushort.MaxValue} are allowed.");
        }

        Span<byte> span = destination.GetSpan(2 + length);
        BinaryPrimitives.WriteUInt16LittleEndian(span, (ushort)length);
        destination.Advance(2 + StrictUtf8.GetBytes(value, span[2..]));
    }

    private static void WriteUInt16(IBufferWriter<byte> destination, ushort value)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(destination.GetSpan(2), value);
        destination.Advance(2);
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
