using System.Buffers.Binary;
using System.Globalization;

namespace OxiVec.Cli.Data;

/// <summary>
/// <c>.fvecs</c> (the TEXMEX / SIFT format): per vector, a little-endian int32 dimension then that many little-endian
/// float32 values. Every vector must have the first one's dimension. Ids are <c>v{row}</c>, rows counted from 0.
/// </summary>
internal sealed class FvecsReader : VectorFileReader
{
    public FvecsReader(string path)
        : base(path)
    {
        using FileStream stream = OpenStream(path);
        Length = stream.Length;
        Span<byte> head = stackalloc byte[4];
        int read = ReadFully(stream, head);
        if (read == 0)
        {
            return; // an empty file: no vectors
        }

        Dimension = read < 4
            ? throw new InputFileException(path, "row 0 (byte offset 0)", $"the file ends inside the row's 4-byte dimension ({read} bytes).")
            : CheckDimension(BinaryPrimitives.ReadInt32LittleEndian(head), 0, 0);
    }

    public override string PositionName => "row";

    public override int? Dimension { get; }

    public override IEnumerable<FileRecord> Read(Action<long>? progress = null)
    {
        if (Dimension is not { } dimension)
        {
            yield break;
        }

        using FileStream stream = OpenStream(Path);
        byte[] head = new byte[4];
        byte[] body = new byte[dimension * 4];
        for (long row = 0; ; row++)
        {
            long offset = stream.Position;
            int read = ReadFully(stream, head);
            if (read == 0)
            {
                yield break;
            }

            string where = Where(row, offset);
            if (read < 4)
            {
                throw new InputFileException(Path, where, $"the file ends inside the row's 4-byte dimension ({read} bytes); is it truncated?");
            }

            int rowDimension = BinaryPrimitives.ReadInt32LittleEndian(head);
            if (rowDimension != dimension)
            {
                CheckDimension(rowDimension, row, offset);
                throw new InputFileException(Path, where, $"dimension {rowDimension}, but row 0 has dimension {dimension}; every vector of a file must have the same.");
            }

            read = ReadFully(stream, body);
            if (read < body.Length)
            {
                throw new InputFileException(
                    Path, where, $"the file ends after {read} of the row's {body.Length} bytes of float32 values; is it truncated?");
            }

            var vector = new float[dimension];
            ReadFloats(body, vector);
            if ((row & 1023) == 0)
            {
                progress?.Invoke(stream.Position);
            }

            yield return new FileRecord(row, "v" + row.ToString(CultureInfo.InvariantCulture), vector, null);
        }
    }

    private static string Where(long row, long offset) => string.Create(CultureInfo.InvariantCulture, $"row {row} (byte offset {offset})");

    private int CheckDimension(int dimension, long row, long offset) => dimension is >= 1 and <= MaxDimension
        ? dimension
        : throw new InputFileException(
            Path, Where(row, offset), $"dimension {dimension} is not between 1 and {MaxDimension}; is this an .fvecs file (int32 dimension, then float32 values, little-endian)?");
}
