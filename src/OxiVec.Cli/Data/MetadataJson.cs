using System.Globalization;
using System.Text;
using System.Text.Json;
using OxiVec.Storage;

namespace OxiVec.Cli.Data;

/// <summary>
/// Metadata as JSON, both ways. Reading (a .jsonl "metadata" object): a string is a string; a number written as an
/// integer (no '.', no exponent) is a long; any other number is a double (out of range: ±infinity); true and false are
/// bools; null is null; an array of strings is a string list, any other array a list of such values; an object an
/// object (nested at most <see cref="MetadataValue.MaxNesting"/> levels), as the Qdrant API stores payloads. Writing
/// (export) is the inverse, and a double always shows a '.' or an exponent (3.0, not 3) so that it reads back as a
/// double: what `export` writes, `import` reads back as the same values.
/// </summary>
internal static class MetadataJson
{
    /// <summary>The longest string (and field name) the store keeps, in UTF-8 bytes.</summary>
    public const int MaxStringBytes = ushort.MaxValue;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Reads a "metadata" object; <paramref name="fail"/> makes the exception for a problem.</summary>
    public static Dictionary<string, MetadataValue> Read(JsonElement metadata, Func<string, Exception> fail)
    {
        if (metadata.ValueKind != JsonValueKind.Object)
        {
            throw fail($"\"metadata\" must be an object, not {Kind(metadata)}.");
        }

        var result = new Dictionary<string, MetadataValue>(StringComparer.Ordinal);
        foreach (JsonProperty field in metadata.EnumerateObject())
        {
            string name = field.Name;
            CheckString(name, $"metadata field name '{Shorten(name)}'", fail);
            MetadataValue value = Value(field.Value, name, $"metadata field '{name}'", 1, fail);
            if (!result.TryAdd(name, value))
            {
                throw fail($"metadata field '{name}' appears twice.");
            }
        }

        if (result.Count > ushort.MaxValue)
        {
            throw fail($"metadata has {result.Count} fields; at most {ushort.MaxValue} are allowed.");
        }

        return result;
    }

    /// <summary>Writes the metadata as an object property named <paramref name="propertyName"/>, fields in ordinal order.</summary>
    public static void Write(Utf8JsonWriter json, string propertyName, IReadOnlyDictionary<string, MetadataValue> metadata)
    {
        json.WriteStartObject(propertyName);
        foreach (KeyValuePair<string, MetadataValue> field in metadata.OrderBy(f => f.Key, StringComparer.Ordinal))
        {
            json.WritePropertyName(field.Key);
            WriteValue(json, field.Value);
        }

        json.WriteEndObject();
    }

    /// <summary>Writes one value (<see cref="MetadataJsonWriter.WriteValue"/>: what <see cref="Read"/> reads back).</summary>
    public static void WriteValue(Utf8JsonWriter json, MetadataValue value) => MetadataJsonWriter.WriteValue(json, value);

    /// <summary>Checks that a string can be stored: valid Unicode, at most <see cref="MaxStringBytes"/> UTF-8 bytes.</summary>
    public static void CheckString(string text, string what, Func<string, Exception> fail)
    {
        int bytes;
        try
        {
            bytes = StrictUtf8.GetByteCount(text);
        }
        catch (EncoderFallbackException)
        {
            throw fail($"{what} is not valid Unicode (a lone surrogate).");
        }

        if (bytes > MaxStringBytes)
        {
            throw fail($"{what} is {bytes} UTF-8 bytes; at most {MaxStringBytes} are allowed.");
        }
    }

    private static MetadataValue Text(JsonElement element, string what, Func<string, Exception> fail)
    {
        string text = GetString(element, what, fail);
        CheckString(text, what, fail);
        return text;
    }

    private static string GetString(JsonElement element, string what, Func<string, Exception> fail)
    {
        try
        {
            return element.GetString()!;
        }
        catch (InvalidOperationException)
        {
            throw fail($"{what} is not valid Unicode.");
        }
    }

    /// <summary>
    /// One value; <paramref name="what"/> names it in messages; <paramref name="depth"/> is the level of the array or
    /// object it would be (1 for a field's own value), which the store bounds at <see cref="MetadataValue.MaxNesting"/>.
    /// </summary>
    private static MetadataValue Value(JsonElement element, string name, string what, int depth, Func<string, Exception> fail)
    {
        if (depth > MetadataValue.MaxNesting && element.ValueKind is JsonValueKind.Array or JsonValueKind.Object)
        {
            throw fail($"{what} nests deeper than {MetadataValue.MaxNesting} levels of arrays and objects.");
        }

        return element.ValueKind switch
        {
            JsonValueKind.String => Text(element, what, fail),
            JsonValueKind.Number => Number(element, what, fail),
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            JsonValueKind.Null => MetadataValue.Null,
            JsonValueKind.Array => List(element, name, what, depth, fail),
            JsonValueKind.Object => Object(element, name, what, depth, fail),
            _ => throw fail($"{what} is {Kind(element)}."),
        };
    }

    private static MetadataValue Number(JsonElement element, string what, Func<string, Exception> fail)
    {
        string raw = element.GetRawText();
        if (raw.AsSpan().IndexOfAny(".eE") < 0)
        {
            return element.TryGetInt64(out long integer)
                ? integer
                : throw fail($"{what} is the integer {raw}, outside the 64-bit range; write it as a string, or as a float ({raw}.0).");
        }

        return double.Parse(raw, NumberStyles.Float, CultureInfo.InvariantCulture);
    }

    private static MetadataValue List(JsonElement array, string name, string what, int depth, Func<string, Exception> fail)
    {
        int count = array.GetArrayLength();
        if (count > ushort.MaxValue)
        {
            throw fail($"{what} has {count} items; at most {ushort.MaxValue} are allowed.");
        }

        var items = new List<MetadataValue>(count);
        int index = 0;
        foreach (JsonElement item in array.EnumerateArray())
        {
            items.Add(Value(item, name, $"{what} index {index}", depth + 1, fail));
            index++;
        }

        return MetadataValue.FromList(items); // all strings (or none): a string list, as before
    }

    private static MetadataValue Object(JsonElement obj, string name, string what, int depth, Func<string, Exception> fail)
    {
        var fields = new List<KeyValuePair<string, MetadataValue>>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (JsonProperty field in obj.EnumerateObject())
        {
            CheckString(field.Name, $"{what} field name '{Shorten(field.Name)}'", fail);
            if (!seen.Add(field.Name))
            {
                throw fail($"{what} has the field '{Shorten(field.Name)}' twice.");
            }

            fields.Add(new(field.Name, Value(field.Value, name, $"{what} field '{Shorten(field.Name)}'", depth + 1, fail)));
        }

        return fields.Count > ushort.MaxValue
            ? throw fail($"{what} has {fields.Count} fields; at most {ushort.MaxValue} are allowed.")
            : MetadataValue.FromObject(fields);
    }

    /// <summary>"a string", "a number", "null"... for messages.</summary>
    public static string Kind(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "nothing",
    };

    private static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "...";
}
