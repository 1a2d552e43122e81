using System.Globalization;
using System.Text.Json;
using OxiVec.Storage;

namespace OxiVec.Hosting.Qdrant.Translation;

/// <summary>
/// Qdrant payloads (JSON objects) as OxiVec metadata and back, so that any JSON payload round-trips: a string is a
/// string; an integer that fits 64 signed bits a long; any other number (a fraction, an exponent, an integer beyond
/// the long range) a double; a boolean a bool; null null; an array of strings (or an empty one) a string list;
/// any other array a list; an object an object, its fields in the order given. A name given twice keeps its last
/// value (as Qdrant does).
/// </summary>
/// <remarks>
/// Numbers are written back as numbers: a long in decimal, a double in its shortest round-trip form with ".0" added
/// to an integral value (<c>3.0</c> stays <c>3.0</c>, <c>1e300</c> comes back as <c>1E+300</c>), so the value and its
/// kind survive; the digits of an integer beyond the long range do not (it is stored as the nearest double). A
/// double that is ±infinity (stored through the embedded API or `oxivec import`) comes back as ±1e999.
/// Strings and names are at most 65,535 UTF-8 bytes; lists and objects nest at most
/// <see cref="MetadataValue.MaxNesting"/> levels.
/// </remarks>
public static class QdrantPayload
{
    /// <summary>The metadata of the payload at <paramref name="payload"/> (null or absent: empty).</summary>
    /// <exception cref="QdrantRequestException">Not an object, or a value OxiVec cannot store; the message names its path.</exception>
    public static Dictionary<string, MetadataValue> ToMetadata(JsonElement payload, string path)
    {
        try
        {
            return Convert(payload, path);
        }
        catch (InvalidOperationException ex)
        {
            throw new QdrantRequestException(path, $"the payload holds text that is not valid Unicode ({ex.Message})");
        }
    }

    /// <summary>One payload value.</summary>
    /// <exception cref="QdrantRequestException">A value OxiVec cannot store (a number beyond the double range, nesting deeper than <see cref="MetadataValue.MaxNesting"/>, text that is not valid Unicode).</exception>
    public static MetadataValue ToValue(JsonElement value, string path)
    {
        try
        {
            return ToValue(value, path, 0);
        }
        catch (InvalidOperationException ex)
        {
            throw new QdrantRequestException(path, $"the value holds text that is not valid Unicode ({ex.Message})");
        }
    }

    private static Dictionary<string, MetadataValue> Convert(JsonElement payload, string path)
    {
        var metadata = new Dictionary<string, MetadataValue>(StringComparer.Ordinal);
        if (payload.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null)
        {
            return metadata;
        }

        if (payload.ValueKind != JsonValueKind.Object)
        {
            throw new QdrantRequestException(path, $"a payload is a JSON object; got {payload.ValueKind.ToString().ToLowerInvariant()}.");
        }

        foreach (JsonProperty property in payload.EnumerateObject())
        {
            metadata[property.Name] = ToValue(property.Value, $"{path}.{property.Name}", 0);
        }

        return metadata;
    }

    private static MetadataValue ToValue(JsonElement value, string path, int depth)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.String:
                return MetadataValue.From(value.GetString()!);
            case JsonValueKind.Number:
                if (value.TryGetInt64(out long l))
                {
                    return MetadataValue.From(l);
                }

                return value.TryGetDouble(out double d) && double.IsFinite(d)
                    ? MetadataValue.From(d)
                    : throw new QdrantRequestException(path, $"the number {Shorten(value.GetRawText())} is beyond the range of a 64-bit float.");
            case JsonValueKind.True:
            case JsonValueKind.False:
                return MetadataValue.From(value.GetBoolean());
            case JsonValueKind.Null:
                return MetadataValue.Null;
            case JsonValueKind.Array:
                CheckDepth(path, depth);
                var items = new List<MetadataValue>(value.GetArrayLength());
                int i = 0;
                foreach (JsonElement item in value.EnumerateArray())
                {
                    items.Add(ToValue(item, $"{path}[{i++}]", depth + 1));
                }

                return MetadataValue.FromList(items);
            case JsonValueKind.Object:
                CheckDepth(path, depth);
                var fields = new List<KeyValuePair<string, MetadataValue>>();
                var index = new Dictionary<string, int>(StringComparer.Ordinal);
                foreach (JsonProperty property in value.EnumerateObject())
                {
                    MetadataValue field = ToValue(property.Value, $"{path}.{property.Name}", depth + 1);
                    if (index.TryGetValue(property.Name, out int at))
                    {
                        fields[at] = new(property.Name, field); // the last value wins, in the first one's place
                    }
                    else
                    {
                        index[property.Name] = fields.Count;
                        fields.Add(new(property.Name, field));
                    }
                }

                return MetadataValue.FromObject(fields);
            default:
                throw new QdrantRequestException(path, $"a payload value is JSON; got {value.ValueKind.ToString().ToLowerInvariant()}.");
        }
    }

    /// <summary>Writes <paramref name="metadata"/> as a JSON object.</summary>
    public static void Write(Utf8JsonWriter writer, IReadOnlyDictionary<string, MetadataValue> metadata)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(metadata);
        writer.WriteStartObject();
        foreach (KeyValuePair<string, MetadataValue> pair in metadata)
        {
            writer.WritePropertyName(pair.Key);
            WriteValue(writer, pair.Value);
        }

        writer.WriteEndObject();
    }

    /// <summary>Writes one value (numbers as the type's remarks describe; <see cref="MetadataJsonWriter.WriteValue"/>).</summary>
    public static void WriteValue(Utf8JsonWriter writer, MetadataValue value) => MetadataJsonWriter.WriteValue(writer, value);

    private static void CheckDepth(string path, int depth)
    {
        if (depth >= MetadataValue.MaxNesting)
        {
            throw new QdrantRequestException(path, $"the payload nests deeper than {MetadataValue.MaxNesting} arrays and objects.");
        }
    }

    private static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "...";
}
