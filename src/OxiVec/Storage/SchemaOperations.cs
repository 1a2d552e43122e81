using System.Buffers.Binary;
using System.Text;
using OxiVec.Indexing;
using OxiVec.Wal;

namespace OxiVec.Storage;

/// <summary>
/// Collection creation and removal, logged as WAL custom entries (the WAL knows nothing of collections).
/// Create payload: <c>str name, u32 dimension, u8 metric, u8 index, i32 M, i32 efConstruction, i32 efSearch, i32 seed</c>;
/// drop payload: <c>str name</c>.
/// </summary>
internal static class SchemaOperations
{
    public const string CreateCollection = "oxivec.collection.create";
    public const string DropCollection = "oxivec.collection.drop";

    public static WalEntry.Custom Create(string name, CollectionOptions options)
    {
        byte[] nameBytes = Encoding.UTF8.GetBytes(name);
        var payload = new byte[2 + nameBytes.Length + 4 + 2 + 16];
        Span<byte> p = payload;
        BinaryPrimitives.WriteUInt16LittleEndian(p, (ushort)nameBytes.Length);
        nameBytes.CopyTo(p[2..]);
        p = p[(2 + nameBytes.Length)..];
        BinaryPrimitives.WriteInt32LittleEndian(p, options.Dimension);
        p[4] = (byte)options.Metric;
        p[5] = (byte)options.Index;
        BinaryPrimitives.WriteInt32LittleEndian(p[6..], options.Hnsw.M);
        BinaryPrimitives.WriteInt32LittleEndian(p[10..], options.Hnsw.EfConstruction);
        BinaryPrimitives.WriteInt32LittleEndian(p[14..], options.Hnsw.EfSearch);
        BinaryPrimitives.WriteInt32LittleEndian(p[18..], options.Hnsw.Seed);
        return new WalEntry.Custom(CreateCollection, payload);
    }

    public static WalEntry.Custom Drop(string name) => new(DropCollection, Name(name));

    /// <exception cref="InvalidDataException">The payload is malformed.</exception>
    public static (string Name, CollectionOptions Options) ReadCreate(ReadOnlySpan<byte> payload)
    {
        try
        {
            string name = ReadName(payload, out int used);
            ReadOnlySpan<byte> p = payload[used..];
            if (p.Length != 22)
            {
                throw new InvalidDataException($"collection create payload has {p.Length} bytes after the name; 22 expected");
            }

            var options = new CollectionOptions(BinaryPrimitives.ReadInt32LittleEndian(p))
            {
                Metric = (DistanceMetric)p[4],
                Index = (IndexKind)p[5],
                Hnsw = new HnswParameters
                {
                    M = BinaryPrimitives.ReadInt32LittleEndian(p[6..]),
                    EfConstruction = BinaryPrimitives.ReadInt32LittleEndian(p[10..]),
                    EfSearch = BinaryPrimitives.ReadInt32LittleEndian(p[14..]),
                    Seed = BinaryPrimitives.ReadInt32LittleEndian(p[18..]),
                },
            };
            return (name, options);
        }
        catch (ArgumentException ex)
        {
            throw new InvalidDataException($"collection create payload holds an invalid option: {ex.Message}", ex);
        }
    }

    public static string ReadDrop(ReadOnlySpan<byte> payload)
    {
        string name = ReadName(payload, out int used);
        return used == payload.Length ? name : throw new InvalidDataException("collection drop payload has trailing bytes");
    }

    private static byte[] Name(string name)
    {
        byte[] nameBytes = Encoding.UTF8.GetBytes(name);
        var payload = new byte[2 + nameBytes.Length];
        BinaryPrimitives.WriteUInt16LittleEndian(payload, (ushort)nameBytes.Length);
        nameBytes.CopyTo(payload, 2);
        return payload;
    }

    private static string ReadName(ReadOnlySpan<byte> payload, out int used)
    {
        if (payload.Length < 2 || payload.Length < 2 + BinaryPrimitives.ReadUInt16LittleEndian(payload))
        {
            throw new InvalidDataException("collection payload is shorter than its name");
        }

        int length = BinaryPrimitives.ReadUInt16LittleEndian(payload);
        used = 2 + length;
        return Encoding.UTF8.GetString(payload.Slice(2, length));
    }
}
