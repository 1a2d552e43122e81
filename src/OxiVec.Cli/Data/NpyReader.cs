using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace OxiVec.Cli.Data;

/// <summary>
/// <c>.npy</c> (NumPy's format, versions 1.0 to 3.0): the magic <c>\x93NUMPY</c>, a version, a header length, a Python
/// dict literal <c>{'descr': '&lt;f4', 'fortran_order': False, 'shape': (rows, dimension), }</c>, then the data. Only
/// 2-D little-endian float32 arrays in C (row-major) order are read; anything else is refused with a message saying how
/// to convert it. Ids are <c>v{row}</c>, rows counted from 0.
/// </summary>
internal sealed class NpyReader : VectorFileReader
{
    private static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    private readonly long _dataOffset;
    private readonly long _rows;

    public NpyReader(string path)
        : base(path)
    {
        using FileStream stream = OpenStream(path);
        Length = stream.Length;
        Span<byte> preamble = stackalloc byte[12];
        int read = ReadFully(stream, preamble[..8]);
        if (read < 8 || !preamble[..6].SequenceEqual(Magic))
        {
            throw new InputFileException(path, null, "is not an .npy file: it does not start with the magic bytes \\x93NUMPY.");
        }

        byte major = preamble[6];
        byte minor = preamble[7];
        int lengthBytes = major switch
        {
            1 => 2,
            2 or 3 => 4,
            _ => throw new InputFileException(path, "header", $"unsupported .npy format version {major}.{minor} (1.0 to 3.0 are read)."),
        };
        if (ReadFully(stream, preamble.Slice(8, lengthBytes)) < lengthBytes)
        {
            throw new InputFileException(path, "header", "the file ends inside the header length.");
        }

        long headerLength = lengthBytes == 2
            ? BinaryPrimitives.ReadUInt16LittleEndian(preamble[8..])
            : BinaryPrimitives.ReadUInt32LittleEndian(preamble[8..]);
        _dataOffset = 8 + lengthBytes + headerLength;
        if (_dataOffset > Length || headerLength > 1 << 24)
        {
            throw new InputFileException(path, "header", $"the header length {headerLength} runs past the end of the file ({Length} bytes).");
        }

        byte[] headerBytes = new byte[headerLength];
        ReadFully(stream, headerBytes);
        string header = major == 3 ? Encoding.UTF8.GetString(headerBytes) : Encoding.Latin1.GetString(headerBytes);
        Dictionary<string, object?> dict;
        try
        {
            dict = PythonLiteral.ParseDict(header);
        }
        catch (FormatException ex)
        {
            throw new InputFileException(path, "header", $"is not a valid header dict: {ex.Message}.", ex);
        }

        (_rows, Dimension) = ReadHeader(dict);
        long expected = checked(_rows * Dimension!.Value * 4);
        long actual = Length - _dataOffset;
        if (actual != expected)
        {
            throw new InputFileException(
                path, null,
                actual < expected
                    ? $"the header says {_rows} x {Dimension} float32 values ({expected} bytes of data), but the file holds {actual}; is it truncated?"
                    : $"the header says {_rows} x {Dimension} float32 values ({expected} bytes of data), but {actual - expected} more bytes follow them.");
        }

        if (_rows == 0)
        {
            Dimension = null;
        }
    }

    public override string PositionName => "row";

    public override int? Dimension { get; }

    /// <summary>The rows the header announces.</summary>
    public long Rows => _rows;

    public override IEnumerable<FileRecord> Read(Action<long>? progress = null)
    {
        if (Dimension is not { } dimension)
        {
            yield break;
        }

        using FileStream stream = OpenStream(Path);
        stream.Position = _dataOffset;
        byte[] body = new byte[dimension * 4];
        for (long row = 0; row < _rows; row++)
        {
            if (ReadFully(stream, body) < body.Length)
            {
                throw new InputFileException(Path, Where(row), "the file ends inside the row; was it truncated while being read?");
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

    private (long Rows, int Dimension) ReadHeader(Dictionary<string, object?> dict)
    {
        foreach (string key in (string[])["descr", "fortran_order", "shape"])
        {
            if (!dict.ContainsKey(key))
            {
                throw new InputFileException(Path, "header", $"has no '{key}' key: {PythonLiteral.Show(dict)}.");
            }
        }

        object? descr = dict["descr"];
        if (descr is not string dtype)
        {
            throw new InputFileException(
                Path, "header",
                $"dtype {PythonLiteral.Show(descr)} is a structured (record) dtype; only plain float32 arrays ('<f4') are read. Save a 2-D float32 array: np.save(path, arr.astype('<f4')).");
        }

        if (dtype != "<f4")
        {
            throw new InputFileException(
                Path, "header",
                $"dtype '{dtype}'{DtypeName(dtype)} is not supported; only little-endian float32 ('<f4') is read. Convert it: np.save(path, arr.astype('<f4')).");
        }

        if (dict["fortran_order"] is not bool fortran)
        {
            throw new InputFileException(Path, "header", $"'fortran_order' is {PythonLiteral.Show(dict["fortran_order"])}, not True or False.");
        }

        if (fortran)
        {
            throw new InputFileException(
                Path, "header",
                "the array is in Fortran (column-major) order; only C (row-major) order is read. Save np.ascontiguousarray(arr) instead.");
        }

        if (dict["shape"] is not PythonLiteral.PythonTuple { Items: var shape } || shape.Any(d => d is not long))
        {
            throw new InputFileException(Path, "header", $"'shape' is {PythonLiteral.Show(dict["shape"])}, not a tuple of integers.");
        }

        if (shape.Count != 2)
        {
            throw new InputFileException(
                Path, "header",
                $"the array has shape {PythonLiteral.Show(dict["shape"])} ({shape.Count}-D); a 2-D array of shape (rows, dimension) is needed" +
                (shape.Count == 1 ? ": for one vector, save arr.reshape(1, -1)." : "."));
        }

        long rows = (long)shape[0]!;
        long dimension = (long)shape[1]!;
        if (rows < 0)
        {
            throw new InputFileException(Path, "header", $"the shape {PythonLiteral.Show(dict["shape"])} has a negative row count.");
        }

        if (dimension is < 1 or > MaxDimension)
        {
            throw new InputFileException(
                Path, "header", $"the shape {PythonLiteral.Show(dict["shape"])} has dimension {dimension}; it must be between 1 and {MaxDimension}.");
        }

        return (rows, (int)dimension);
    }

    private static string DtypeName(string dtype) => dtype switch
    {
        "<f8" or "=f8" => " (float64)",
        "<f2" or "=f2" => " (float16)",
        ">f4" => " (big-endian float32)",
        ">f8" => " (big-endian float64)",
        "<i4" or "=i4" => " (int32)",
        "<i8" or "=i8" => " (int64)",
        "|u1" => " (uint8)",
        "|i1" => " (int8)",
        "|b1" => " (bool)",
        _ => "",
    };
}
