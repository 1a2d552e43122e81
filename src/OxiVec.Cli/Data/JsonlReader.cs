using System.Globalization;
using System.Text;
using System.Text.Json;
using OxiVec.Storage;

namespace OxiVec.Cli.Data;

/// <summary>
/// <c>.jsonl</c> (JSON Lines): one object per line, <c>{"id": "doc-1", "vector": [0.1, 0.2], "metadata": {"lang": "en"}}</c>.
/// "vector" is required; "id" is required for imports (not for queries); "metadata" is optional (see
/// <see cref="MetadataJson"/>). Blank lines are skipped; any other key is an error (a typo would lose data silently).
/// Lines are counted from 1, as editors do, and end with <c>\n</c> or <c>\r\n</c>; a line longer than
/// <see cref="MaxLineChars"/> is refused, naming the file and line, before more of it is held in memory.
/// </summary>
internal sealed class JsonlReader : VectorFileReader
{
    /// <summary>The longest record id the store accepts, in UTF-8 bytes.</summary>
    public const int MaxIdBytes = 512;

    /// <summary>
    /// The longest line read, in characters: 64 Mi (67,108,864). A record must fit in one WAL segment (64 MiB by
    /// default), and a vector of the largest dimension (65,536 components, at most 25 characters each in JSON) takes
    /// under 2 MB, leaving the rest for the id and metadata; a longer line could never be imported.
    /// </summary>
    public const int MaxLineChars = 64 << 20;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
    private readonly bool _requireIds;

    private readonly int _maxLineChars;

    public JsonlReader(string path, bool requireIds, int maxLineChars = MaxLineChars)
        : base(path)
    {
        _requireIds = requireIds;
        _maxLineChars = maxLineChars;
        Length = new FileInfo(path).Length;
        foreach (FileRecord first in Read(dimension: null))
        {
            Dimension = first.Vector.Length;
            break;
        }
    }

    public override string PositionName => "line";

    public override int? Dimension { get; }

    public override IEnumerable<FileRecord> Read(Action<long>? progress = null) => Read(Dimension, progress);

    private IEnumerable<FileRecord> Read(int? dimension, Action<long>? progress = null)
    {
        using FileStream stream = OpenStream(Path);
        using var text = new StreamReader(stream, StrictUtf8, detectEncodingFromByteOrderMarks: true, bufferSize: 1 << 16);
        var reader = new BoundedLineReader(text, _maxLineChars);
        long lineNumber = 0;
        while (true)
        {
            string? line;
            try
            {
                line = reader.ReadLine();
            }
            catch (DecoderFallbackException ex)
            {
                throw new InputFileException(Path, $"line {lineNumber + 1}", "is not valid UTF-8.", ex);
            }
            catch (LineTooLongException ex)
            {
                throw new InputFileException(
                    Path,
                    $"line {lineNumber + 1}",
                    string.Create(CultureInfo.InvariantCulture, $"is longer than {ex.MaxChars:N0} characters, the most a line may hold (a record must fit in one WAL segment); is this a JSON Lines file, one object per line?"),
                    ex);
            }

            if (line is null)
            {
                yield break;
            }

            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            FileRecord record = ParseLine(line, lineNumber, dimension);
            dimension ??= record.Vector.Length;
            if ((lineNumber & 1023) == 0)
            {
                progress?.Invoke(stream.Position);
            }

            yield return record;
        }
    }

    private FileRecord ParseLine(string line, long lineNumber, int? dimension)
    {
        string where = Where(lineNumber);
        Exception Fail(string what) => new InputFileException(Path, where, what);

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(line);
        }
        catch (JsonException ex)
        {
            // System.Text.Json's message ends with its position (of the line, not the file) and sometimes with advice
            // meant for programmers ("Change the reader options."); keep the description.
            string message = ex.Message.Replace(" Change the reader options.", "", StringComparison.Ordinal);
            int cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
            string column = ex.BytePositionInLine is { } byteInLine ? string.Create(CultureInfo.InvariantCulture, $" at column {byteInLine + 1}") : "";
            throw new InputFileException(Path, where, $"not valid JSON{column}: {(cut > 0 ? message[..cut] : message)}", ex);
        }

        using (document)
        {
            JsonElement root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw Fail($"expected a JSON object {{\"id\": ..., \"vector\": [...]}}, not {MetadataJson.Kind(root)}.");
            }

            string? id = null;
            float[]? vector = null;
            Dictionary<string, MetadataValue>? metadata = null;
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (JsonProperty property in root.EnumerateObject())
            {
                if (!seen.Add(property.Name))
                {
                    throw Fail($"key \"{property.Name}\" appears twice.");
                }

                switch (property.Name)
                {
                    case "id":
                        id = ReadId(property.Value, Fail);
                        break;
                    case "vector":
                        vector = ReadVector(property.Value, Fail);
                        break;
                    case "metadata":
                        metadata = property.Value.ValueKind == JsonValueKind.Null ? null : MetadataJson.Read(property.Value, Fail);
                        break;
                    default:
                        throw Fail($"unknown key \"{property.Name}\"; a line has \"id\", \"vector\" and optionally \"metadata\".");
                }
            }

            if (vector is null)
            {
                throw Fail("no \"vector\".");
            }

            if (dimension is { } expected && vector.Length != expected)
            {
                throw Fail($"the vector has {vector.Length} components, but the first vector of the file has {expected}; every vector must have the same dimension.");
            }

            if (id is null && _requireIds)
            {
                throw Fail("no \"id\"; every line to import needs one.");
            }

            return new FileRecord(lineNumber, id, vector, metadata);
        }
    }

    private static string ReadId(JsonElement value, Func<string, Exception> fail)
    {
        if (value.ValueKind != JsonValueKind.String)
        {
            throw fail($"\"id\" must be a string, not {MetadataJson.Kind(value)}.");
        }

        string id;
        try
        {
            id = value.GetString()!;
        }
        catch (InvalidOperationException)
        {
            throw fail("\"id\" is not valid Unicode.");
        }

        if (id.Length == 0)
        {
            throw fail("\"id\" is empty.");
        }

        if (id.Contains('\0', StringComparison.Ordinal))
        {
            throw fail("\"id\" contains a NUL character.");
        }

        int bytes;
        try
        {
            bytes = StrictUtf8.GetByteCount(id);
        }
        catch (EncoderFallbackException)
        {
            throw fail("\"id\" is not valid Unicode (a lone surrogate).");
        }

        return bytes <= MaxIdBytes ? id : throw fail($"\"id\" is {bytes} UTF-8 bytes; at most {MaxIdBytes} are allowed.");
    }

    private static float[] ReadVector(JsonElement value, Func<string, Exception> fail)
    {
        if (value.ValueKind != JsonValueKind.Array)
        {
            throw fail($"\"vector\" must be an array of numbers, not {MetadataJson.Kind(value)}.");
        }

        int length = value.GetArrayLength();
        if (length is 0 or > MaxDimension)
        {
            throw fail($"\"vector\" has {length} components; it must have 1 to {MaxDimension}.");
        }

        var vector = new float[length];
        int i = 0;
        foreach (JsonElement item in value.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetDouble(out double number))
            {
                throw fail($"\"vector\" component {i} is {MetadataJson.Kind(item)}, not a number.");
            }

            float single = (float)number;
            vector[i++] = float.IsFinite(single)
                ? single
                : throw fail($"\"vector\" component {i - 1} ({item.GetRawText()}) is outside the float32 range.");
        }

        return vector;
    }
}
