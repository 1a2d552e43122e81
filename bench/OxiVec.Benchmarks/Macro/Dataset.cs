using System.Globalization;
using System.Text;
using OxiVec.Wal;

namespace OxiVec.Benchmarks.Macro;

/// <summary>
/// What every writer inserts: 128-dimension float32 vectors with 32 bytes of metadata, drawn round-robin from
/// pools generated once from a fixed seed, into one collection, under ids unique per writer.
/// </summary>
internal sealed class Dataset
{
    public const int Dimensions = 128;
    public const int MetadataBytes = 32;
    public const int PoolSize = 1024;
    public const string Collection = "bench";
    public const int Seed = 42;

    private readonly ReadOnlyMemory<float>[] _vectors = new ReadOnlyMemory<float>[PoolSize];
    private readonly ReadOnlyMemory<byte>[] _metadata = new ReadOnlyMemory<byte>[PoolSize];

    public Dataset()
    {
        var random = new Random(Seed);
        for (int i = 0; i < PoolSize; i++)
        {
            float[] v = new float[Dimensions];
            for (int d = 0; d < Dimensions; d++)
            {
                v[d] = (float)((random.NextDouble() * 2) - 1);
            }

            _vectors[i] = v;

            // JSON-like metadata, padded to exactly 32 bytes.
            string json = string.Create(CultureInfo.InvariantCulture, $"{{\"cat\":\"c{i % 100:D3}\",\"score\":{random.NextDouble():F3}}}");
            _metadata[i] = Encoding.ASCII.GetBytes(json.PadRight(MetadataBytes)[..MetadataBytes]);
        }
    }

    public ReadOnlyMemory<float> Vector(long seq) => _vectors[seq & (PoolSize - 1)];

    public ReadOnlyMemory<byte> Metadata(long seq) => _metadata[seq & (PoolSize - 1)];

    /// <summary>The record id: writer and sequence, 14 ASCII characters (<c>w07-0000001234</c>).</summary>
    public static string Id(int writer, long seq) => string.Create(CultureInfo.InvariantCulture, $"w{writer:D2}-{seq:D10}");

    /// <summary>Bytes one insert occupies in the WAL: 32-byte record header, payload, padding to 8.</summary>
    public int RecordBytes
    {
        get
        {
            var entry = new WalEntry.Insert(Collection, Id(0, 0), Vector(0), Metadata(0));
            return WalFormat.RecordSize(WalEntryCodec.GetPayloadSize(entry));
        }
    }

    /// <summary>
    /// Writes the WAL payload of writer <paramref name="writer"/>'s insert number <paramref name="seq"/> (the bytes
    /// OxiVec logs for it, without its record header) into <paramref name="destination"/>, exactly
    /// <see cref="PayloadBytes"/> long: the record the peers store.
    /// </summary>
    public void EncodePayload(int writer, long seq, Span<byte> destination) =>
        WalEntryCodec.Encode(new WalEntry.Insert(Collection, Id(writer, seq), Vector(seq), Metadata(seq)), destination);

    /// <summary>Payload bytes of one insert (the record minus header and padding).</summary>
    public int PayloadBytes => WalEntryCodec.GetPayloadSize(new WalEntry.Insert(Collection, Id(0, 0), Vector(0), Metadata(0)));
}
