using System.Buffers.Binary;
using System.IO.Compression;

namespace OxiVec.Benchmarks.Scale;

/// <summary>
/// Fashion-MNIST as the Debian package <c>dataset-fashion-mnist</c> installs it (bench/scripts/install-datasets.sh):
/// gzipped IDX files of 28 x 28 unsigned-byte images, read as 784-float vectors of the raw pixel values (0–255).
/// </summary>
internal static class FashionMnist
{
    public const string Directory = "/usr/share/datasets/fashion-mnist";
    public const string TrainFile = "train-images-idx3-ubyte.gz";
    public const string TestFile = "t10k-images-idx3-ubyte.gz";
    public const int Dimension = 28 * 28;

    /// <summary>The 60,000 training images (the indexed set) and the 10,000 test images (the queries).</summary>
    /// <exception cref="FileNotFoundException">The package is not installed.</exception>
    /// <exception cref="InvalidDataException">A file is not an IDX file of 28 x 28 unsigned bytes.</exception>
    public static (float[][] Train, float[][] Test) Load() =>
        (ReadImages(Path.Combine(Directory, TrainFile)), ReadImages(Path.Combine(Directory, TestFile)));

    /// <summary>Reads one gzipped IDX3 file of unsigned bytes (magic 0x00000803, big-endian sizes) into float vectors.</summary>
    public static float[][] ReadImages(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException(
                $"Fashion-MNIST file '{path}' is missing: run bench/scripts/install-datasets.sh (it installs the Debian package dataset-fashion-mnist)", path);
        }

        using var gz = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
        Span<byte> header = stackalloc byte[16];
        ReadExactly(gz, header, path, 0);
        int magic = BinaryPrimitives.ReadInt32BigEndian(header);
        if (magic != 0x0803)
        {
            throw new InvalidDataException($"{path}: offset 0: IDX magic 0x{magic:x8}, expected 0x00000803 (unsigned bytes, 3 dimensions)");
        }

        int count = BinaryPrimitives.ReadInt32BigEndian(header[4..]);
        int rows = BinaryPrimitives.ReadInt32BigEndian(header[8..]);
        int cols = BinaryPrimitives.ReadInt32BigEndian(header[12..]);
        if (count <= 0 || rows * cols != Dimension)
        {
            throw new InvalidDataException($"{path}: offset 4: {count} images of {rows} x {cols}, expected a positive count of 28 x 28");
        }

        var result = new float[count][];
        byte[] pixels = new byte[Dimension];
        for (int i = 0; i < count; i++)
        {
            ReadExactly(gz, pixels, path, 16L + ((long)i * Dimension));
            var v = new float[Dimension];
            for (int j = 0; j < Dimension; j++)
            {
                v[j] = pixels[j];
            }

            result[i] = v;
        }

        return result;
    }

    private static void ReadExactly(Stream s, Span<byte> buffer, string path, long offset)
    {
        try
        {
            s.ReadExactly(buffer);
        }
        catch (EndOfStreamException ex)
        {
            throw new InvalidDataException($"{path}: offset {offset} (decompressed): the file ends before the {buffer.Length} bytes the IDX header promises", ex);
        }
    }
}
