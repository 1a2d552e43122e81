using System.Buffers.Binary;
using System.Text;

namespace OxiVec.CrashTests.Infrastructure;

/// <summary>Writes small vector files in the formats <c>oxivec import</c> and <c>search</c> read.</summary>
public static class VectorFiles
{
    /// <summary>.fvecs: per vector, int32 dimension then the float32 values, little-endian.</summary>
    public static void WriteFvecs(string path, IEnumerable<float[]> vectors)
    {
        using var file = File.Create(path);
        Span<byte> four = stackalloc byte[4];
        foreach (float[] v in vectors)
        {
            BinaryPrimitives.WriteInt32LittleEndian(four, v.Length);
            file.Write(four);
            foreach (float x in v)
            {
                BinaryPrimitives.WriteSingleLittleEndian(four, x);
                file.Write(four);
            }
        }
    }

    /// <summary>
    /// .npy: magic, version, header length, the header dict padded with spaces and a newline so the data starts at a
    /// multiple of 64, then <paramref name="data"/> (the caller's bytes, so tests can write any dtype).
    /// </summary>
    public static void WriteNpy(string path, string headerDict, ReadOnlySpan<byte> data, byte major = 1)
    {
        int lengthBytes = major == 1 ? 2 : 4;
        int preamble = 8 + lengthBytes;
        int padded = ((preamble + headerDict.Length + 1 + 63) / 64) * 64;
        string header = headerDict.PadRight(padded - preamble - 1) + "\n";
        using var file = File.Create(path);
        file.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', major, 0]);
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(length, (uint)header.Length);
        file.Write(length[..lengthBytes]);
        file.Write(Encoding.Latin1.GetBytes(header));
        file.Write(data);
    }

    /// <summary>A 2-D float32 .npy file of the vectors (all of one dimension), as <c>np.save</c> writes it.</summary>
    public static void WriteNpyFloat32(string path, IReadOnlyList<float[]> vectors, byte major = 1)
    {
        int dimension = vectors.Count == 0 ? 0 : vectors[0].Length;
        var data = new byte[vectors.Count * dimension * 4];
        for (int r = 0; r < vectors.Count; r++)
        {
            for (int c = 0; c < dimension; c++)
            {
                BinaryPrimitives.WriteSingleLittleEndian(data.AsSpan(((r * dimension) + c) * 4), vectors[r][c]);
            }
        }

        WriteNpy(path, $"{{'descr': '<f4', 'fortran_order': False, 'shape': ({vectors.Count}, {dimension}), }}", data, major);
    }
}
