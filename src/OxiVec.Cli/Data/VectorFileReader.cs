namespace OxiVec.Cli.Data;

/// <summary>
/// Reads vectors from a file, by extension: <c>.fvecs</c>, <c>.npy</c> (2-D little-endian float32), <c>.jsonl</c> /
/// <c>.ndjson</c> (one JSON object per line). Every problem is an <see cref="InputFileException"/> naming the file, the
/// row or line, and what is wrong. Readers check the file's own consistency (framing, one dimension throughout, JSON
/// types); what depends on the collection (finite values, cosine norms, ids) is for <see cref="VectorFileCheck"/>.
/// </summary>
internal abstract class VectorFileReader
{
    /// <summary>The largest dimension a collection accepts.</summary>
    public const int MaxDimension = 65_536;

    protected VectorFileReader(string path) => Path = path;

    /// <summary>The file as the user named it (used in messages).</summary>
    public string Path { get; }

    /// <summary>"row" (0-based, .fvecs and .npy: ids are v{row}) or "line" (1-based, .jsonl).</summary>
    public abstract string PositionName { get; }

    /// <summary>The dimension of every vector in the file; null when the file holds none.</summary>
    public abstract int? Dimension { get; }

    /// <summary>The file's size in bytes.</summary>
    public long Length { get; protected init; }

    /// <summary>The supported extensions, for messages.</summary>
    public const string Formats = ".fvecs, .npy or .jsonl";

    /// <summary>Opens <paramref name="path"/> and reads its header (or, for .jsonl, its first record).</summary>
    /// <param name="requireIds">For .jsonl: whether every line needs an "id" (imports) or not (queries).</param>
    /// <exception cref="InputFileException">Unknown extension, or a bad header.</exception>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    public static VectorFileReader Open(string path, bool requireIds)
    {
        if (Directory.Exists(path))
        {
            throw new InputFileException(path, null, $"is a directory; pass a {Formats} file.");
        }

        if (!File.Exists(path))
        {
            throw new InputFileException(path, null, "no such file.");
        }

        string extension = System.IO.Path.GetExtension(path).ToLowerInvariant();
        return extension switch
        {
            ".fvecs" => new FvecsReader(path),
            ".npy" => new NpyReader(path),
            ".jsonl" or ".ndjson" => new JsonlReader(path, requireIds),
            _ => throw new InputFileException(
                path, null, $"unsupported file type '{(extension.Length == 0 ? "(none)" : extension)}'; use {Formats}."),
        };
    }

    /// <summary>
    /// Reads every record in file order, calling <paramref name="progress"/> with the bytes consumed so far now and
    /// then. Each call reads the file again from the start.
    /// </summary>
    public abstract IEnumerable<FileRecord> Read(Action<long>? progress = null);

    /// <summary>"row 17" or "line 18".</summary>
    public string Where(long position) => $"{PositionName} {position}";

    protected static FileStream OpenStream(string path) =>
        new(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);

    /// <summary>Reads until <paramref name="buffer"/> is full or the file ends; returns the bytes read.</summary>
    protected static int ReadFully(Stream stream, Span<byte> buffer)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int read = stream.Read(buffer[total..]);
            if (read == 0)
            {
                break;
            }

            total += read;
        }

        return total;
    }

    /// <summary>Little-endian float32 values to floats.</summary>
    protected static void ReadFloats(ReadOnlySpan<byte> bytes, Span<float> destination)
    {
        for (int i = 0; i < destination.Length; i++)
        {
            destination[i] = System.Buffers.Binary.BinaryPrimitives.ReadSingleLittleEndian(bytes.Slice(i * 4, 4));
        }
    }
}
